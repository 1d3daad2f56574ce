//! The JSON-RPC envelope over plain HTTP: batches, errors, limits.

use alloy::transports::http::reqwest;
use serde_json::{Value, json};

use crate::setup;

async fn post(url: &str, body: impl Into<String>) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.into())
        .send()
        .await
        .expect("http request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

async fn rpc(url: &str, body: Value) -> Value {
    let (status, text) = post(url, body.to_string()).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).expect("json answer")
}

#[tokio::test]
async fn batches_and_errors() {
    let (handle, _provider) = setup().await;
    let url = handle.url.as_str();

    let answer = rpc(
        url,
        json!([
            {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
            {"jsonrpc": "2.0", "id": "two", "method": "eth_blockNumber"},
            {"jsonrpc": "2.0", "id": 3, "method": "eth_noSuchMethod", "params": []},
            {"jsonrpc": "2.0", "id": 4, "method": "eth_getBalance", "params": ["0x1234"]},
            {"jsonrpc": "2.0", "method": "eth_chainId", "params": []},
        ]),
    )
    .await;
    let answers = answer.as_array().expect("batch answer");
    assert_eq!(
        answers.len(),
        4,
        "the notification gets no answer: {answer}"
    );
    assert_eq!(
        answers[0],
        json!({"jsonrpc": "2.0", "id": 1, "result": "0x7a69"})
    );
    assert_eq!(answers[1]["id"], "two");
    assert_eq!(answers[1]["result"], "0x0");
    assert_eq!(answers[2]["error"]["code"], -32601);
    assert!(
        answers[2]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("eth_noSuchMethod")
    );
    assert_eq!(answers[3]["error"]["code"], -32602);
    let message = answers[3]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("eth_getBalance") && message.contains("address"),
        "{message}"
    );

    let too_many: Vec<Value> = (0..101)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "eth_chainId"}))
        .collect();
    let answer = rpc(url, Value::Array(too_many)).await;
    assert_eq!(answer["error"]["code"], -32005);

    let answer = rpc(url, json!([])).await;
    assert_eq!(answer["error"]["code"], -32600);

    let (status, text) = post(url, "{not json").await;
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["error"]["code"], -32700);

    let (status, _) = post(url, r#"{"jsonrpc":"2.0","method":"eth_chainId"}"#).await;
    assert_eq!(status, 204, "a lone notification gets no body");

    let answer = rpc(
        url,
        json!({"jsonrpc": "2.0", "id": 9, "method": "eth_getBlockByNumber", "params": ["nope"]}),
    )
    .await;
    assert_eq!(answer["error"]["code"], -32602);

    let answer = rpc(
        url,
        json!({"jsonrpc": "2.0", "id": 10, "method": "eth_syncing"}),
    )
    .await;
    assert_eq!(answer["result"], false);
}

#[tokio::test]
async fn large_bodies_are_accepted_up_to_the_limit() {
    let (handle, _provider) = setup().await;
    // ~200 KB of calldata (a big contract deployment) is fine.
    let data = format!("0x{}", "00".repeat(200_000));
    let answer = rpc(
        &handle.url,
        json!({"jsonrpc": "2.0", "id": 1, "method": "web3_sha3", "params": [data]}),
    )
    .await;
    assert!(answer["result"].is_string(), "{answer}");

    let huge = "x".repeat(verity_devchain::MAX_BODY_BYTES + 1);
    let (status, _) = post(&handle.url, huge).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let (handle, provider) = setup().await;
    let url = handle.url.clone();
    // An open keep-alive connection does not hold the shutdown up.
    alloy::providers::Provider::get_block_number(&provider)
        .await
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), handle.shutdown())
        .await
        .expect("shutdown does not hang")
        .expect("clean shutdown");
    let result = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}"#)
        .send()
        .await;
    assert!(result.is_err(), "server still answers after shutdown");
}
