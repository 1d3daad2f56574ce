//! Positional JSON-RPC parameters with clear `-32602` errors.

use alloy::{
    eips::{BlockId, BlockNumberOrTag},
    primitives::U256,
};
use serde::{Deserialize as _, de::DeserializeOwned};
use serde_json::Value;

use crate::error::{Error, Result};

/// The positional parameters of one request.
#[derive(Debug)]
pub(crate) struct Params<'a> {
    method: &'a str,
    items: Vec<Value>,
}

impl<'a> Params<'a> {
    pub(crate) fn new(method: &'a str, params: Value) -> Result<Self> {
        let items = match params {
            Value::Null => Vec::new(),
            Value::Array(items) => items,
            _ => {
                return Err(Error::params(format!(
                    "invalid params for {method}: params must be an array"
                )));
            }
        };
        Ok(Self { method, items })
    }

    fn error(&self, index: usize, name: &str, why: impl std::fmt::Display) -> Error {
        Error::params(format!(
            "invalid params for {}: argument {index} ({name}): {why}",
            self.method
        ))
    }

    /// Fails if more than `n` parameters were given.
    pub(crate) fn at_most(&self, n: usize) -> Result<()> {
        if self.items.len() > n {
            return Err(Error::params(format!(
                "invalid params for {}: too many arguments, want at most {n}, got {}",
                self.method,
                self.items.len()
            )));
        }
        Ok(())
    }

    fn raw(&self, index: usize) -> Option<&Value> {
        self.items.get(index).filter(|v| !v.is_null())
    }

    /// A required parameter.
    pub(crate) fn get<T: DeserializeOwned>(&self, index: usize, name: &str) -> Result<T> {
        self.opt(index, name)?
            .ok_or_else(|| self.error(index, name, "missing value"))
    }

    /// An optional parameter (`null` or absent = `None`).
    pub(crate) fn opt<T: DeserializeOwned>(&self, index: usize, name: &str) -> Result<Option<T>> {
        self.raw(index)
            .map(|v| T::deserialize(v).map_err(|e| self.error(index, name, e)))
            .transpose()
    }

    /// A required quantity: a JSON number, a `0x` hex string or a decimal string.
    pub(crate) fn quantity(&self, index: usize, name: &str) -> Result<U256> {
        self.opt_quantity(index, name)?
            .ok_or_else(|| self.error(index, name, "missing value"))
    }

    /// An optional quantity.
    pub(crate) fn opt_quantity(&self, index: usize, name: &str) -> Result<Option<U256>> {
        self.raw(index)
            .map(|v| parse_quantity(v).map_err(|why| self.error(index, name, why)))
            .transpose()
    }

    /// A required quantity that fits a `u64`.
    pub(crate) fn u64(&self, index: usize, name: &str) -> Result<u64> {
        let value = self.quantity(index, name)?;
        u64::try_from(value).map_err(|_| self.error(index, name, "value does not fit 64 bits"))
    }

    /// An optional quantity that fits a `u64`.
    pub(crate) fn opt_u64(&self, index: usize, name: &str) -> Result<Option<u64>> {
        self.opt_quantity(index, name)?
            .map(|v| {
                u64::try_from(v).map_err(|_| self.error(index, name, "value does not fit 64 bits"))
            })
            .transpose()
    }

    /// An optional block id (EIP-1898 object, tag, hex number or JSON number).
    pub(crate) fn block_id(&self, index: usize) -> Result<Option<BlockId>> {
        match self.raw(index) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(|n| Some(BlockId::number(n)))
                .ok_or_else(|| self.error(index, "block", "not a block number")),
            Some(v) => BlockId::deserialize(v)
                .map(Some)
                .map_err(|e| self.error(index, "block", e)),
        }
    }

    /// A required block number or tag.
    pub(crate) fn block_tag(&self, index: usize) -> Result<BlockNumberOrTag> {
        match self.raw(index) {
            None => Err(self.error(index, "block", "missing value")),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(BlockNumberOrTag::Number)
                .ok_or_else(|| self.error(index, "block", "not a block number")),
            Some(v) => BlockNumberOrTag::deserialize(v).map_err(|e| self.error(index, "block", e)),
        }
    }
}

fn parse_quantity(value: &Value) -> std::result::Result<U256, String> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .map(U256::from)
            .ok_or_else(|| format!("{n} is not a non-negative integer")),
        Value::String(s) => {
            let parsed = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                if hex.is_empty() {
                    return Err(format!("{s:?} is not a hex quantity"));
                }
                U256::from_str_radix(hex, 16)
            } else {
                U256::from_str_radix(s, 10)
            };
            parsed.map_err(|e| format!("{s:?} is not a quantity: {e}"))
        }
        other => Err(format!("expected a quantity, got {other}")),
    }
}

#[cfg(test)]
mod tests {
    use alloy::{
        eips::{BlockId, BlockNumberOrTag},
        primitives::U256,
    };
    use serde_json::json;

    use super::Params;

    #[test]
    fn quantities_accept_numbers_hex_and_decimal_strings() {
        let p = Params::new("m", json!([5, "0x10", "42", null])).unwrap();
        assert_eq!(p.u64(0, "a").unwrap(), 5);
        assert_eq!(p.u64(1, "b").unwrap(), 16);
        assert_eq!(p.quantity(2, "c").unwrap(), U256::from(42));
        assert_eq!(p.opt_u64(3, "d").unwrap(), None);
        assert_eq!(p.opt_u64(4, "e").unwrap(), None);
        let err = p.u64(3, "d").unwrap_err().to_string();
        assert!(err.contains("argument 3 (d): missing value"), "{err}");
    }

    #[test]
    fn bad_params_say_which_argument_is_wrong() {
        let p = Params::new("eth_getBalance", json!(["0xzz", "0x", -1, true])).unwrap();
        let err = p
            .get::<alloy::primitives::Address>(0, "address")
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid params for eth_getBalance: argument 0 (address)")
        );
        assert!(p.quantity(1, "x").is_err());
        assert!(p.quantity(2, "x").is_err());
        assert!(p.quantity(3, "x").is_err());
        assert!(p.at_most(3).is_err());
        assert!(Params::new("m", json!({"a": 1})).is_err());
    }

    #[test]
    fn block_ids_accept_tags_numbers_and_hashes() {
        let hash = format!("0x{}", "11".repeat(32));
        let p = Params::new("m", json!(["latest", 7, "0x8", { "blockHash": hash }])).unwrap();
        assert_eq!(
            p.block_id(0).unwrap(),
            Some(BlockId::Number(BlockNumberOrTag::Latest))
        );
        assert_eq!(p.block_id(1).unwrap(), Some(BlockId::number(7)));
        assert_eq!(p.block_tag(2).unwrap(), BlockNumberOrTag::Number(8));
        assert!(matches!(p.block_id(3).unwrap(), Some(BlockId::Hash(_))));
        assert_eq!(p.block_id(4).unwrap(), None);
    }
}
