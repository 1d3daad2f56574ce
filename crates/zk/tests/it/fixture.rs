use verity_zk::Shape;
use verity_zk::device::Device;
use verity_zk::registry::Registry;
use verity_zk::statement::{Query, SignedReading};

pub(crate) const DEPTH: usize = 10;

pub(crate) struct World {
    pub(crate) registry: Registry,
    pub(crate) devices: Vec<Device>,
    pub(crate) query: Query,
}

/// Eight registered devices; window [1000, 2000], range [10, 100].
pub(crate) fn world() -> World {
    world_of_depth(DEPTH)
}

/// [`world`] with a registry tree of `depth` levels (at least 3 for eight devices).
pub(crate) fn world_of_depth(depth: usize) -> World {
    let mut registry = Registry::new(depth).expect("depth");
    let devices: Vec<Device> = (0..8).map(Device::from_seed).collect();
    for d in &devices {
        registry.register(d.public_key()).expect("register");
    }
    let query = Query::new(registry.root(), (1000, 2000), (10, 100)).expect("query");
    World {
        registry,
        devices,
        query,
    }
}

/// `n` readings: mostly accepted, one out of range, one out of window.
pub(crate) fn readings(w: &World, n: usize) -> Vec<SignedReading> {
    (0..n)
        .map(|i| {
            let d = &w.devices[i % w.devices.len()];
            match i {
                1 => d.sign(500, 1500), // out of range: excluded
                2 => d.sign(50, 2500),  // out of window: excluded
                _ => d.sign(10 + (i as u32 * 7) % 90, 1000 + i as u32),
            }
        })
        .collect()
}

pub(crate) fn shape(slots: usize) -> Shape {
    Shape {
        slots,
        depth: DEPTH,
    }
}
