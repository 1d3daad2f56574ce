//! The input blob of a ZkProof task: the circuit size, the query, the device registry (public
//! keys in leaf order) and the signed readings. The requester publishes it to the store; the
//! proving node fetches it by its sha2-256 (the store checks the bytes against it), checks it
//! against the task (the query digest is the task's `inputDigest`) and builds the witness.
//!
//! Encoding: UTF-8 JSON, field elements as 0x-prefixed 32-byte big-endian hex (as on chain):
//!
//! ```json
//! { "version": 1, "shape": { "slots": 16, "depth": 10 },
//!   "query": { "registryRoot": "0x…", "window": [1000, 2000], "range": [10, 100] },
//!   "devices": [ { "x": "0x…", "y": "0x…" } ],
//!   "readings": [ { "value": 42, "timestamp": 1500, "device": { "x": "0x…", "y": "0x…" },
//!                   "signature": { "r8": { "x": "0x…", "y": "0x…" }, "s": "0x…" } } ] }
//! ```
//!
//! The same reading and point objects are what `verity device sign` prints.

use serde_json::{Value, json};

use crate::babyjubjub::Point;
use crate::circuit::{SensorCircuit, Shape};
use crate::device::verify_reading;
use crate::eddsa::Signature;
use crate::encoding::{fr_from_hex, fr_to_hex, scalar_from_hex, scalar_to_hex};
use crate::error::{Error, Result};
use crate::registry::Registry;
use crate::statement::{Query, SignedReading};

/// Marks the input's digest appended to a `createTask` transaction's calldata.
pub const CALLDATA_TAG: [u8; 4] = *b"vzk1";

/// How a client names the input blob of a ZkProof task on chain. The task's `inputDigest` is
/// the query digest the verifier consumes, not a content address, and the market has no other
/// field for it; so the client appends `CALLDATA_TAG ‖ sha256(blob)` to its `createTask`
/// calldata (the market's ABI decoder ignores trailing bytes) and the prover reads it back
/// from the transaction that emitted `TaskCreated`.
pub fn calldata_suffix(input_sha256: [u8; 32]) -> Vec<u8> {
    let mut out = CALLDATA_TAG.to_vec();
    out.extend_from_slice(&input_sha256);
    out
}

/// The input blob digest a [`calldata_suffix`] carries, if `calldata` ends with one.
pub fn input_digest_from_calldata(calldata: &[u8]) -> Option<[u8; 32]> {
    let n = calldata.len();
    let tail = calldata.get(n.checked_sub(36)?..)?;
    if tail[..4] != CALLDATA_TAG {
        return None;
    }
    tail[4..].try_into().ok()
}

/// The encoding version this crate writes and reads.
pub const VERSION: u64 = 1;

/// Largest circuit size a task input may name (the benchmarked maximum).
pub const MAX_SLOTS: usize = 256;

/// Everything a prover needs for one ZkProof task (the proving counterpart of a WASM task's
/// `verity_primitives::envelope::InputEnvelope`; the two are different bytes with different
/// digests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvingInput {
    /// Circuit size N and registry depth (the keys and the registered verifier are per shape).
    pub shape: Shape,
    /// The client's query; its digest is the task's `inputDigest`.
    pub query: Query,
    /// Registered device keys, leaf 0 first; their tree's root must be the query's root.
    pub devices: Vec<Point>,
    /// The readings to aggregate (at most `shape.slots`).
    pub readings: Vec<SignedReading>,
}

/// The former name, kept for callers not yet renamed (`verity device`, the devnet's ZK
/// workload and the CLI's tests); new code says [`ProvingInput`].
pub type TaskInput = ProvingInput;

fn bad(reason: impl Into<String>) -> Error {
    Error::BadInput(reason.into())
}

/// A point as `{"x": "0x…", "y": "0x…"}`.
pub fn point_to_json(p: &Point) -> Value {
    json!({ "x": fr_to_hex(p.x), "y": fr_to_hex(p.y) })
}

/// Parses `{"x", "y"}`; the point must be on BabyJubJub.
pub fn point_from_json(v: &Value, what: &str) -> Result<Point> {
    let coord = |c: &str| -> Result<_> {
        let s = v
            .get(c)
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("{what}: missing {c}")))?;
        fr_from_hex(s, "coordinate").map_err(|e| bad(format!("{what}.{c}: {e}")))
    };
    let p = Point {
        x: coord("x")?,
        y: coord("y")?,
    };
    if !p.is_on_curve() {
        return Err(bad(format!("{what}: not a BabyJubJub point")));
    }
    Ok(p)
}

/// A signed reading as JSON (what `verity device sign` prints).
pub fn reading_to_json(r: &SignedReading) -> Value {
    json!({
        "value": r.value,
        "timestamp": r.timestamp,
        "device": point_to_json(&r.device),
        "signature": { "r8": point_to_json(&r.signature.r8), "s": scalar_to_hex(r.signature.s) },
    })
}

fn u32_field(v: &Value, key: &str, what: &str) -> Result<u32> {
    v.get(key)
        .and_then(Value::as_u64)
        .and_then(|x| u32::try_from(x).ok())
        .ok_or_else(|| bad(format!("{what}: {key} must be an unsigned 32-bit integer")))
}

/// Parses a signed reading (the signature is not checked here: see [`ProvingInput::check`]).
pub fn reading_from_json(v: &Value, what: &str) -> Result<SignedReading> {
    let sig = v
        .get("signature")
        .ok_or_else(|| bad(format!("{what}: missing signature")))?;
    let s = sig
        .get("s")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("{what}: missing signature.s")))?;
    Ok(SignedReading {
        value: u32_field(v, "value", what)?,
        timestamp: u32_field(v, "timestamp", what)?,
        device: point_from_json(
            v.get("device").unwrap_or(&Value::Null),
            &format!("{what}.device"),
        )?,
        signature: Signature {
            r8: point_from_json(
                sig.get("r8").unwrap_or(&Value::Null),
                &format!("{what}.signature.r8"),
            )?,
            s: scalar_from_hex(s, "signature.s")
                .map_err(|e| bad(format!("{what}.signature.s: {e}")))?,
        },
    })
}

fn pair(v: &Value, key: &str) -> Result<(u32, u32)> {
    let a = v
        .get(key)
        .and_then(Value::as_array)
        .filter(|a| a.len() == 2)
        .ok_or_else(|| bad(format!("query.{key}: expected [lo, hi]")))?;
    let n = |x: &Value| {
        x.as_u64()
            .and_then(|x| u32::try_from(x).ok())
            .ok_or_else(|| bad(format!("query.{key}: bounds are unsigned 32-bit integers")))
    };
    Ok((n(&a[0])?, n(&a[1])?))
}

impl ProvingInput {
    /// The registry of `devices` (depth `shape.depth`); its root should be the query's.
    pub fn registry(&self) -> Result<Registry> {
        let mut registry = Registry::new(self.shape.depth)?;
        for (i, d) in self.devices.iter().enumerate() {
            registry
                .register(*d)
                .map_err(|e| bad(format!("devices[{i}]: {e}")))?;
        }
        Ok(registry)
    }

    /// Encodes as JSON bytes (the blob to publish).
    pub fn to_bytes(&self) -> Vec<u8> {
        let q = &self.query;
        let v = json!({
            "version": VERSION,
            "shape": { "slots": self.shape.slots, "depth": self.shape.depth },
            "query": {
                "registryRoot": fr_to_hex(q.registry_root),
                "window": [q.window_start, q.window_end],
                "range": [q.range_min, q.range_max],
            },
            "devices": self.devices.iter().map(point_to_json).collect::<Vec<_>>(),
            "readings": self.readings.iter().map(reading_to_json).collect::<Vec<_>>(),
        });
        v.to_string().into_bytes()
    }

    /// Decodes [`ProvingInput::to_bytes`]. Checks the form only; [`ProvingInput::check`] checks the
    /// content.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
        let version = v.get("version").and_then(Value::as_u64);
        if version != Some(VERSION) {
            return Err(bad(format!(
                "version {version:?} unsupported (this node reads {VERSION})"
            )));
        }
        let shape = v.get("shape").unwrap_or(&Value::Null);
        let dim = |k: &str| {
            shape
                .get(k)
                .and_then(Value::as_u64)
                .and_then(|x| usize::try_from(x).ok())
                .ok_or_else(|| bad(format!("shape.{k} missing")))
        };
        let shape = Shape {
            slots: dim("slots")?,
            depth: dim("depth")?,
        };
        if shape.slots == 0 || shape.slots > MAX_SLOTS {
            return Err(bad(format!(
                "shape.slots {} outside 1..={MAX_SLOTS}",
                shape.slots
            )));
        }
        let q = v
            .get("query")
            .ok_or_else(|| bad("missing query".to_string()))?;
        let root = q
            .get("registryRoot")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("query.registryRoot missing".to_string()))?;
        let root = fr_from_hex(root, "registryRoot")
            .map_err(|e| bad(format!("query.registryRoot: {e}")))?;
        let query = Query::new(root, pair(q, "window")?, pair(q, "range")?)?;
        let list = |k: &str| {
            v.get(k)
                .and_then(Value::as_array)
                .ok_or_else(|| bad(format!("{k}: expected an array")))
        };
        let devices = list("devices")?
            .iter()
            .enumerate()
            .map(|(i, d)| point_from_json(d, &format!("devices[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        let readings = list("readings")?
            .iter()
            .enumerate()
            .map(|(i, r)| reading_from_json(r, &format!("readings[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            shape,
            query,
            devices,
            readings,
        })
    }

    /// Checks what would otherwise only surface as an unsatisfied circuit, and says which
    /// reading is at fault: the registry root, the number of readings, every signature, every
    /// device's registration. Returns the registry.
    pub fn check(&self) -> Result<Registry> {
        if self.readings.len() > self.shape.slots {
            return Err(Error::TooManyReadings {
                given: self.readings.len(),
                slots: self.shape.slots,
            });
        }
        let registry = self.registry()?;
        if registry.root() != self.query.registry_root {
            return Err(bad(format!(
                "the devices' registry root {} is not the query's {}",
                fr_to_hex(registry.root()),
                fr_to_hex(self.query.registry_root)
            )));
        }
        for (i, r) in self.readings.iter().enumerate() {
            if !verify_reading(r) {
                return Err(Error::BadReading {
                    index: i,
                    reason: "signature does not verify".into(),
                });
            }
            if registry.index_of(&r.device).is_none() {
                return Err(Error::BadReading {
                    index: i,
                    reason: "device is not registered".into(),
                });
            }
        }
        Ok(registry)
    }

    /// The checked witness bound to the market's `binding` (see [`ProvingInput::check`]).
    pub fn witness(&self, binding: [u8; 32]) -> Result<SensorCircuit> {
        let registry = self.check()?;
        SensorCircuit::new(self.shape, &registry, self.query, &self.readings, binding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Device;

    fn sample() -> ProvingInput {
        let devices: Vec<Device> = (0..3).map(Device::from_seed).collect();
        let mut registry = Registry::new(4).expect("depth");
        for d in &devices {
            registry.register(d.public_key()).expect("register");
        }
        ProvingInput {
            shape: Shape { slots: 4, depth: 4 },
            query: Query::new(registry.root(), (100, 200), (0, 50)).expect("query"),
            devices: devices.iter().map(Device::public_key).collect(),
            readings: vec![devices[0].sign(10, 150), devices[2].sign(60, 150)],
        }
    }

    #[test]
    fn round_trips_and_checks() {
        let input = sample();
        let back = ProvingInput::from_bytes(&input.to_bytes()).expect("decode");
        assert_eq!(back, input);
        back.check().expect("valid");
        let w = back.witness([7; 32]).expect("witness");
        assert_eq!(w.claimed.count, 1, "the reading of 60 is out of range");
    }

    #[test]
    fn names_the_bad_reading() {
        let mut input = sample();
        input.readings[1].value += 1;
        assert!(matches!(
            input.check(),
            Err(Error::BadReading { index: 1, .. })
        ));
        let mut input = sample();
        input.readings.push(Device::from_seed(99).sign(10, 150));
        let err = input.check().expect_err("unregistered");
        assert!(matches!(err, Error::BadReading { index: 2, .. }), "{err}");
        assert!(err.to_string().contains("not registered"), "{err}");
        let mut input = sample();
        input.devices.pop();
        assert!(
            matches!(input.check(), Err(Error::BadInput(_))),
            "root mismatch"
        );
    }

    #[test]
    fn calldata_suffix_round_trips() {
        let mut calldata = vec![0xab; 388];
        assert_eq!(input_digest_from_calldata(&calldata), None);
        calldata.extend(calldata_suffix([9; 32]));
        assert_eq!(input_digest_from_calldata(&calldata), Some([9; 32]));
        assert_eq!(input_digest_from_calldata(&calldata[..10]), None);
    }

    #[test]
    fn rejects_malformed_blobs() {
        assert!(ProvingInput::from_bytes(b"not json").is_err());
        let mut v: Value = serde_json::from_slice(&sample().to_bytes()).expect("json");
        v["version"] = json!(2);
        assert!(ProvingInput::from_bytes(v.to_string().as_bytes()).is_err());
        let mut v: Value = serde_json::from_slice(&sample().to_bytes()).expect("json");
        v["readings"][0]["device"]["x"] = json!("0x01");
        assert!(ProvingInput::from_bytes(v.to_string().as_bytes()).is_err());
        let mut v: Value = serde_json::from_slice(&sample().to_bytes()).expect("json");
        v["shape"]["slots"] = json!(100_000);
        assert!(ProvingInput::from_bytes(v.to_string().as_bytes()).is_err());
    }
}
