//! Identifiers the scheduler works with: operators and regions.

use std::fmt;

/// An operator's 20-byte account address (the staking account in `NodeRegistry`).
///
/// A plain newtype rather than `alloy_primitives::Address` keeps this crate free of chain
/// dependencies; the coordinator converts with `OperatorId(address.into_array())`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct OperatorId(pub [u8; 20]);

impl fmt::Display for OperatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for OperatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An ISO 3166-1 numeric country code (0..=999), as nodes report it in heartbeats.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Region(pub u16);

impl Region {
    /// The largest valid code.
    pub const MAX: u16 = 999;

    /// Whether the code is inside the ISO 3166-1 numeric range.
    pub fn is_valid(self) -> bool {
        self.0 <= Self::MAX
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}", self.0)
    }
}

const REGION_WORDS: usize = (Region::MAX as usize + 1).div_ceil(64);

/// A set of regions as a 1000-bit bitset: membership is one shift and one mask, so checking
/// "is this node in an allowed jurisdiction" costs nothing next to a hash lookup.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RegionSet {
    words: [u64; REGION_WORDS],
}

impl Default for RegionSet {
    fn default() -> Self {
        Self::empty()
    }
}

impl RegionSet {
    /// The empty set.
    pub const fn empty() -> Self {
        Self {
            words: [0; REGION_WORDS],
        }
    }

    /// Adds a region; returns false (and changes nothing) if the code is out of range.
    pub fn insert(&mut self, region: Region) -> bool {
        if !region.is_valid() {
            return false;
        }
        let i = region.0 as usize;
        self.words[i / 64] |= 1 << (i % 64);
        true
    }

    /// Whether the set holds `region`.
    pub fn contains(&self, region: Region) -> bool {
        let i = region.0 as usize;
        i <= Region::MAX as usize && self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// Adds every region of `other`.
    pub fn extend_from(&mut self, other: &RegionSet) {
        for (a, b) in self.words.iter_mut().zip(other.words.iter()) {
            *a |= b;
        }
    }

    /// Number of regions in the set.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// The regions in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = Region> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    Region((w * 64 + bit) as u16)
                })
            })
        })
    }
}

impl FromIterator<Region> for RegionSet {
    /// Collects regions; out-of-range codes are dropped (validate first where that matters).
    fn from_iter<I: IntoIterator<Item = Region>>(iter: I) -> Self {
        let mut set = Self::empty();
        for region in iter {
            set.insert(region);
        }
        set
    }
}

impl fmt::Debug for RegionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_set_membership_and_bounds() {
        let mut set = RegionSet::empty();
        assert!(set.insert(Region(276)));
        assert!(set.insert(Region(999)));
        assert!(!set.insert(Region(1000)));
        assert!(set.contains(Region(276)) && set.contains(Region(999)));
        assert!(!set.contains(Region(250)) && !set.contains(Region(1000)));
        assert_eq!(set.len(), 2);
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![Region(276), Region(999)]
        );
    }

    #[test]
    fn operator_id_displays_as_hex() {
        let mut id = [0u8; 20];
        id[19] = 0xab;
        assert_eq!(
            OperatorId(id).to_string(),
            "0x00000000000000000000000000000000000000ab"
        );
    }
}
