//! The Poseidon Merkle tree of registered device keys: leaf `Poseidon(Ax, Ay)`, node
//! `Poseidon(left, right)`, empty leaves zero, fixed depth.

use ark_bn254::Fr;
use ark_ff::Zero;

use crate::babyjubjub::Point;
use crate::error::{Error, Result};
use crate::poseidon;

/// The deepest registry the circuit supports (2^24 devices).
pub const MAX_DEPTH: usize = 24;

/// A membership path: the leaf index (its bits, least significant first, say whether the node
/// is a right child at each level) and the sibling hashes from the leaf up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerklePath {
    /// Leaf position.
    pub index: u64,
    /// Sibling at each level, leaf level first.
    pub siblings: Vec<Fr>,
}

/// The leaf of a device key.
pub fn leaf(key: &Point) -> Fr {
    poseidon::hash(&[key.x, key.y])
}

/// Registered device keys in a fixed-depth Poseidon Merkle tree.
#[derive(Clone, Debug)]
pub struct Registry {
    depth: usize,
    keys: Vec<Point>,
    /// `levels[0]` are the leaves (padded to a power of two only as far as used).
    levels: Vec<Vec<Fr>>,
}

impl Registry {
    /// An empty registry of the given depth.
    pub fn new(depth: usize) -> Result<Self> {
        if depth == 0 || depth > MAX_DEPTH {
            return Err(Error::BadDepth {
                depth,
                max: MAX_DEPTH,
            });
        }
        Ok(Self {
            depth,
            keys: Vec::new(),
            levels: vec![Vec::new(); depth + 1],
        })
    }

    /// The tree depth.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Registers a key and returns its index. Only points of the prime-order subgroup are
    /// accepted: the circuit's scalar multiplication relies on it.
    pub fn register(&mut self, key: Point) -> Result<u64> {
        if !key.is_in_subgroup() || key == Point::identity() {
            return Err(Error::InvalidDeviceKey);
        }
        if self.keys.len() as u64 >= 1u64 << self.depth {
            return Err(Error::RegistryFull {
                capacity: 1u64 << self.depth,
            });
        }
        self.keys.push(key);
        self.rebuild();
        Ok(self.keys.len() as u64 - 1)
    }

    /// The index of a registered key.
    pub fn index_of(&self, key: &Point) -> Option<u64> {
        self.keys.iter().position(|k| k == key).map(|i| i as u64)
    }

    fn rebuild(&mut self) {
        self.levels[0] = self.keys.iter().map(leaf).collect();
        for l in 0..self.depth {
            let below = &self.levels[l];
            let above = below
                .chunks(2)
                .map(|c| poseidon::hash(&[c[0], c.get(1).copied().unwrap_or_else(|| empty(l))]))
                .collect();
            self.levels[l + 1] = above;
        }
    }

    /// The root (commits to every registered key and its position).
    pub fn root(&self) -> Fr {
        self.levels[self.depth]
            .first()
            .copied()
            .unwrap_or_else(|| empty(self.depth))
    }

    /// The membership path of the key at `index`.
    pub fn path(&self, index: u64) -> Result<MerklePath> {
        if index >= self.keys.len() as u64 {
            return Err(Error::UnknownDevice { index });
        }
        let siblings = (0..self.depth)
            .map(|l| {
                let i = ((index >> l) ^ 1) as usize;
                self.levels[l].get(i).copied().unwrap_or_else(|| empty(l))
            })
            .collect();
        Ok(MerklePath { index, siblings })
    }
}

/// The hash of an empty subtree of height `level`.
fn empty(level: usize) -> Fr {
    let mut h = Fr::zero();
    for _ in 0..level {
        h = poseidon::hash(&[h, h]);
    }
    h
}

/// Recomputes the root from a leaf and its path.
pub fn root_from_path(leaf: Fr, path: &MerklePath) -> Fr {
    path.siblings
        .iter()
        .enumerate()
        .fold(leaf, |cur, (l, sib)| {
            if (path.index >> l) & 1 == 1 {
                poseidon::hash(&[*sib, cur])
            } else {
                poseidon::hash(&[cur, *sib])
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eddsa::PrivateKey;

    #[test]
    fn paths_recompute_the_root() {
        let mut reg = Registry::new(4).expect("depth");
        let keys: Vec<Point> = (0..5u8)
            .map(|i| PrivateKey::from_bytes([i; 32]).public())
            .collect();
        for k in &keys {
            reg.register(*k).expect("register");
        }
        for (i, k) in keys.iter().enumerate() {
            let path = reg.path(i as u64).expect("path");
            assert_eq!(root_from_path(leaf(k), &path), reg.root());
        }
        let wrong = MerklePath {
            index: 1,
            ..reg.path(0).expect("path")
        };
        assert_ne!(root_from_path(leaf(&keys[0]), &wrong), reg.root());
        assert!(matches!(
            reg.register(Point::base8().add(&Point {
                x: Fr::zero(),
                y: -Fr::from(1u64)
            })),
            Err(Error::InvalidDeviceKey)
        ));
    }
}
