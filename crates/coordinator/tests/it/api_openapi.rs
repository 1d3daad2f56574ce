//! The checked-in OpenAPI document and Grafana dashboard stay honest: the document names
//! exactly the routes the router serves and the error codes the API has, the JSON the
//! endpoints really answer with fits the schemas it declares for that status, and every metric
//! the Grafana dashboard queries is one `/metrics` exposes.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use serde_json::Value;
use verity_coordinator::api::{self, codes};

use crate::{
    api_world::{World, send, world},
    heartbeat::NOW,
    support::{TestDb, operator},
};

pub(crate) fn doc() -> Value {
    serde_json::from_str(api::OPENAPI_JSON).expect("openapi.json parses")
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let ptr = r.strip_prefix('#').expect("local reference");
            let target = doc
                .pointer(ptr)
                .unwrap_or_else(|| panic!("dangling $ref {r}"));
            resolve(doc, target)
        }
        None => schema,
    }
}

/// Checks `v` against `schema` (the subset the document uses: `$ref`, `oneOf`, `type` (with
/// `null`), `enum`, `required`, `properties`, `additionalProperties: false`, `items`,
/// `minimum`, `maximum`). Answers the first mismatch, with its JSON path.
fn check(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    if let Some(alts) = schema.get("oneOf").and_then(Value::as_array) {
        let fits = alts.iter().filter(|s| check(doc, s, v, at).is_ok()).count();
        return if fits == 1 {
            Ok(())
        } else {
            Err(format!("{at}: {v} fits {fits} of the oneOf alternatives"))
        };
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => return Err(format!("{at}: bad type in schema")),
        };
        let fits = types.iter().any(|t| match *t {
            "null" => v.is_null(),
            "string" => v.is_string(),
            "integer" => v.is_u64() || v.is_i64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "object" => v.is_object(),
            "array" => v.is_array(),
            _ => false,
        });
        if !fits {
            return Err(format!("{at}: {v} is not of type {types:?}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        return Err(format!("{at}: {v} is not one of {e:?}"));
    }
    if let Some(n) = v.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && n < min
        {
            return Err(format!("{at}: {n} below minimum {min}"));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && n > max
        {
            return Err(format!("{at}: {n} above maximum {max}"));
        }
    }
    if let Some(obj) = v.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap();
            if !obj.contains_key(r) {
                return Err(format!("{at}: missing required field {r}"));
            }
        }
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => check(doc, s, val, &format!("{at}.{k}"))?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{at}: field {k} is not in the schema"));
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            check(doc, items, x, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// The path template in the document that `path` fits.
fn template<'a>(doc: &'a Value, path: &str) -> &'a str {
    let segs: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .find(|t| {
            let ts: Vec<&str> = t.split('/').collect();
            ts.len() == segs.len()
                && ts
                    .iter()
                    .zip(&segs)
                    .all(|(t, s)| t.starts_with('{') || t == s)
        })
        .unwrap_or_else(|| panic!("no documented path fits {path}"))
}

/// Calls the API and checks the answer against the schema documented for its status.
pub(crate) async fn conforms(w: &World, doc: &Value, method: &str, uri: &str) -> StatusCode {
    conforms_app(&w.app, doc, method, uri).await
}

/// [`conforms`] for any router.
pub(crate) async fn conforms_app(
    app: &axum::Router,
    doc: &Value,
    method: &str,
    uri: &str,
) -> StatusCode {
    let (status, ct, body) = send(app, method, uri, None).await;
    let path = uri.split('?').next().unwrap();
    let t = template(doc, path);
    let op = &doc["paths"][t][method.to_lowercase()];
    let resp = op["responses"]
        .get(status.as_str())
        .unwrap_or_else(|| panic!("{method} {uri} answered {status}, which {t} does not document"));
    let schema = &resp["content"]["application/json"]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {t} {status}: no JSON schema documented"
    );
    assert!(ct.starts_with("application/json"), "{method} {uri}: {ct}");
    let v: Value = serde_json::from_slice(&body).unwrap();
    if let Err(e) = check(doc, schema, &v, "$") {
        panic!("{method} {uri} ({status}) does not fit the document: {e}\n{v:#}");
    }
    status
}

#[test]
fn the_document_names_exactly_the_routes_served_and_the_error_codes() {
    let doc = doc();
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = api::routes()
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(documented, served);

    let listed: BTreeMap<String, u64> = doc["x-error-codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_owned(),
                c["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let known: BTreeMap<String, u64> = codes::ALL
        .iter()
        .map(|(c, s)| ((*c).to_owned(), u64::from(*s)))
        .collect();
    assert_eq!(listed, known);

    // The checker itself rejects what does not fit.
    let task = serde_json::json!({"$ref": "#/components/schemas/TaskResult"});
    let good = serde_json::json!({"taskId": "1", "status": "finalized", "verification": "verified",
        "resultDigest": "0x00", "resultCid": "bafk"});
    assert!(check(&doc, &task, &good, "$").is_ok());
    for bad in [
        serde_json::json!({"taskId": "1", "status": "finalized", "verification": "verified", "resultDigest": "0x00"}),
        serde_json::json!({"taskId": 1, "status": "finalized", "verification": "verified", "resultDigest": "0x00", "resultCid": "b"}),
        serde_json::json!({"taskId": "1", "status": "lost", "verification": "verified", "resultDigest": "0x00", "resultCid": "b"}),
        serde_json::json!({"taskId": "1", "status": "finalized", "verification": "verified", "resultDigest": "0x00", "resultCid": "b", "extra": 1}),
    ] {
        assert!(check(&doc, &task, &bad, "$").is_err(), "{bad}");
    }

    // Every reference resolves.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 20);
    for r in all {
        assert!(doc.pointer(&r[1..]).is_some(), "dangling {r}");
    }
}

#[tokio::test]
async fn real_answers_fit_the_documented_schemas() {
    let db = TestDb::sqlite();
    let w = world(&db, NOW).await;
    let doc = doc();
    let (s, ct, body) = send(&w.app, "GET", "/openapi.json", None).await;
    assert_eq!((s, ct.as_str()), (StatusCode::OK, "application/json"));
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), doc);

    let one = format!("/v1/nodes/{:#x}", operator(1));
    let silent = format!("/v1/nodes/{:#x}", operator(5));
    let late = format!("/v1/nodes/{:#x}", operator(2));
    for (method, uri, want) in [
        ("GET", "/v1/stats", 200),
        ("GET", "/v1/tasks", 200),
        ("GET", "/v1/tasks?order=desc&limit=2", 200),
        ("GET", "/v1/tasks/8", 200),
        ("GET", "/v1/tasks/6", 200),
        ("GET", "/v1/tasks/1", 200),
        ("GET", "/v1/tasks/8/result", 200),
        ("GET", "/v1/tasks/8/logs", 200),
        ("GET", "/v1/tasks/99/logs", 404),
        ("GET", "/v1/tasks/1/result", 409),
        ("GET", "/v1/tasks/99", 404),
        ("GET", "/v1/tasks/x", 400),
        ("GET", "/v1/tasks?limit=500", 400),
        ("POST", "/v1/tasks", 405),
        ("GET", "/v1/nodes", 200),
        ("GET", one.as_str(), 200),
        ("GET", silent.as_str(), 200),
        ("GET", late.as_str(), 200),
        (
            "GET",
            "/v1/nodes/0x0000000000000000000000000000000000000009",
            404,
        ),
        ("GET", "/v1/nodes?after=zz", 400),
        ("POST", "/v1/heartbeats", 415),
    ] {
        let s = conforms(&w, &doc, method, uri).await;
        assert_eq!(s.as_u16(), want, "{method} {uri}");
    }
}

/// `# TYPE name kind` lines of an exposition.
fn exposed(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, k)| (n.to_owned(), k.to_owned()))
        .collect()
}

#[tokio::test]
async fn every_metric_the_grafana_dashboard_queries_is_exposed() {
    let db = TestDb::sqlite();
    let w = world(&db, NOW).await;
    // Labelled families appear once they have a series: one request, one failover.
    assert_eq!(
        send(&w.app, "GET", "/v1/stats", None).await.0,
        StatusCode::OK
    );
    w.coordinator_metrics.failover("heartbeat_missed");
    let (s, _, body) = send(&w.app, "GET", "/metrics", None).await;
    assert_eq!(s, StatusCode::OK);
    let types = exposed(&String::from_utf8(body).unwrap());

    let dashboard: Value = serde_json::from_str(include_str!("../../grafana/coordinator.json"))
        .expect("grafana/coordinator.json parses");
    let mut exprs = Vec::new();
    fn collect(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x) {
                        ("expr" | "query", Value::String(s)) => out.push(s.clone()),
                        _ => collect(x, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
            _ => {}
        }
    }
    collect(&dashboard, &mut exprs);
    assert!(exprs.len() >= 12, "{exprs:?}");
    let prefix = format!("{}_", api::METRICS_PREFIX);
    let mut bases = BTreeSet::new();
    for e in &exprs {
        for (i, _) in e.match_indices(&prefix) {
            let name: String = e[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let (base, kind) = [
                ("_bucket", "histogram"),
                ("_sum", "histogram"),
                ("_count", "histogram"),
                ("_total", "counter"),
            ]
            .iter()
            .find_map(|(suffix, kind)| name.strip_suffix(suffix).map(|b| (b, Some(*kind))))
            .unwrap_or((name.as_str(), None));
            match (types.get(base), kind) {
                (Some(t), Some(k)) => assert_eq!(t, k, "{name} in {e:?} is a {t}"),
                (Some(t), None) => assert!(
                    t == "gauge" || types.contains_key(&name),
                    "{name} in {e:?} is a {t}, queried without a suffix"
                ),
                (None, _) => panic!("{name} (in {e:?}) is not exposed; exposed: {types:?}"),
            }
            bases.insert(base.to_owned());
        }
    }
    // What the dashboard must show: indexer lag, queue depth, allocation latency,
    // assignments, failovers, HTTP.
    for m in [
        "indexer_lag_blocks",
        "queue_depth",
        "allocation_seconds",
        "assignments",
        "failovers",
        "http_requests",
        "http_request_duration_seconds",
    ] {
        assert!(
            bases.contains(&format!("{prefix}{m}")),
            "dashboard lacks {m}"
        );
    }
}
