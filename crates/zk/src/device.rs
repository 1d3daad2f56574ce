//! A device simulator: makes keys, signs readings the way circomlib-compatible firmware would.

use crate::babyjubjub::Point;
use crate::eddsa::{self, PrivateKey};
use crate::statement::{SignedReading, message};

/// A simulated sensor with its own EdDSA-Poseidon key.
#[derive(Clone, Debug)]
pub struct Device {
    key: PrivateKey,
    public: Point,
}

impl Device {
    /// A device with a fresh random key.
    pub fn random() -> Self {
        Self::from_key(PrivateKey::random())
    }

    /// A device with a key derived from a seed (reproducible devnets and tests).
    pub fn from_seed(seed: u64) -> Self {
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&seed.to_le_bytes());
        b[8..16].copy_from_slice(b"verity-d");
        Self::from_key(PrivateKey::from_bytes(b))
    }

    /// A device with the given key.
    pub fn from_key(key: PrivateKey) -> Self {
        let public = key.public();
        Self { key, public }
    }

    /// The public key to register.
    pub fn public_key(&self) -> Point {
        self.public
    }

    /// The private key (for persisting it).
    pub fn private_key(&self) -> &PrivateKey {
        &self.key
    }

    /// Signs one reading.
    pub fn sign(&self, value: u32, timestamp: u32) -> SignedReading {
        SignedReading {
            value,
            timestamp,
            device: self.public,
            signature: self.key.sign(message(value, timestamp)),
        }
    }
}

/// Whether a reading's signature is valid (native check, same statement as the circuit).
pub fn verify_reading(r: &SignedReading) -> bool {
    eddsa::verify(&r.device, message(r.value, r.timestamp), &r.signature)
}
