//! Text forms of field elements for files, CLIs and JSON: 0x-prefixed 32-byte big-endian hex,
//! as the values go on chain.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};

use crate::error::{Error, Result};
use crate::statement::{field_from_word, field_to_word};

fn word(s: &str, what: &'static str) -> Result<[u8; 32]> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    let mut out = [0u8; 32];
    if digits.len() != 64 || !digits.is_ascii() {
        return Err(Error::BadHex { what });
    }
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16)
            .map_err(|_| Error::BadHex { what })?;
    }
    Ok(out)
}

/// A BN254 scalar as 0x-hex.
pub fn fr_to_hex(x: Fr) -> String {
    to_hex(&field_to_word(x))
}

/// 0x-hex (64 digits) to a BN254 scalar; values at or above the modulus are rejected.
pub fn fr_from_hex(s: &str, what: &'static str) -> Result<Fr> {
    field_from_word(word(s, what)?, 0)
}

/// A BabyJubJub subgroup scalar (a signature's `S`) as 0x-hex.
pub fn scalar_to_hex(x: ark_ed_on_bn254::Fr) -> String {
    let mut w = [0u8; 32];
    w.copy_from_slice(&x.into_bigint().to_bytes_be());
    to_hex(&w)
}

/// 0x-hex to a subgroup scalar; values at or above the subgroup order are rejected.
pub fn scalar_from_hex(s: &str, what: &'static str) -> Result<ark_ed_on_bn254::Fr> {
    let w = word(s, what)?;
    let x = ark_ed_on_bn254::Fr::from_be_bytes_mod_order(&w);
    if x.into_bigint().to_bytes_be() != w {
        return Err(Error::BadHex { what });
    }
    Ok(x)
}

/// Bytes as 0x-hex.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    s.push_str("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_out_of_range() {
        let x = Fr::from(123_456_789u64);
        assert_eq!(fr_from_hex(&fr_to_hex(x), "x").expect("parse"), x);
        let s = ark_ed_on_bn254::Fr::from(42u64);
        assert_eq!(scalar_from_hex(&scalar_to_hex(s), "s").expect("parse"), s);
        let r = to_hex(&Fr::MODULUS.to_bytes_be());
        assert!(fr_from_hex(&r, "r").is_err());
        let l = to_hex(&ark_ed_on_bn254::Fr::MODULUS.to_bytes_be());
        assert!(scalar_from_hex(&l, "l").is_err());
        assert!(fr_from_hex("0x12", "short").is_err());
    }
}
