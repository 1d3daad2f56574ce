//! The sample workload's programs: the example guests (`guests/*.c`, built by
//! `scripts/build-guests.sh` into `guests/out/`, committed so the binary embeds them) and a
//! deterministic input generator for each.

/// One example program and how to make an input for it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Program {
    pub(super) name: &'static str,
    pub(super) wasm: &'static [u8],
    input: fn(u64) -> Vec<u8>,
}

impl Program {
    /// The input of the `seed`-th task running this program (deterministic).
    pub(super) fn input(&self, seed: u64) -> Vec<u8> {
        (self.input)(seed)
    }
}

pub(super) const PROGRAMS: [Program; 4] = [
    Program {
        name: "sensor_aggregate",
        wasm: include_bytes!("../../../../../guests/out/sensor_aggregate.wasm"),
        input: sensor_input,
    },
    Program {
        name: "sha256",
        wasm: include_bytes!("../../../../../guests/out/sha256.wasm"),
        input: sha_input,
    },
    Program {
        name: "sort",
        wasm: include_bytes!("../../../../../guests/out/sort.wasm"),
        input: sort_input,
    },
    Program {
        name: "matmul",
        wasm: include_bytes!("../../../../../guests/out/matmul.wasm"),
        input: matmul_input,
    },
];

/// A small xorshift stream: reproducible inputs without a dependency.
fn stream(seed: u64) -> impl Iterator<Item = u64> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    std::iter::from_fn(move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        Some(x)
    })
}

/// 64 readings in a window [1000, 2000) and range [-50, 150]; some fall outside either.
fn sensor_input(seed: u64) -> Vec<u8> {
    const COUNT: u32 = 64;
    let mut out = Vec::with_capacity(32 + 16 * COUNT as usize);
    out.extend_from_slice(b"VSA1");
    out.extend_from_slice(&COUNT.to_le_bytes());
    out.extend_from_slice(&1000u64.to_le_bytes());
    out.extend_from_slice(&2000u64.to_le_bytes());
    out.extend_from_slice(&(-50i32).to_le_bytes());
    out.extend_from_slice(&150i32.to_le_bytes());
    for (i, r) in stream(seed).take(COUNT as usize).enumerate() {
        let value = (r % 240) as i32 - 70;
        let timestamp = 950 + (r >> 32) % 1100;
        out.extend_from_slice(&(i as u32).to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
        out.extend_from_slice(&timestamp.to_le_bytes());
    }
    out
}

fn sha_input(seed: u64) -> Vec<u8> {
    stream(seed).take(512).flat_map(u64::to_le_bytes).collect()
}

fn sort_input(seed: u64) -> Vec<u8> {
    stream(seed)
        .take(1024)
        .flat_map(|v| (v as u32).to_le_bytes())
        .collect()
}

fn matmul_input(seed: u64) -> Vec<u8> {
    const N: u32 = 8;
    let mut out = N.to_le_bytes().to_vec();
    for v in stream(seed).take(2 * (N * N) as usize) {
        out.extend_from_slice(&((v % 201) as i32 - 100).to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_executor::{Executor, ExecutorConfig, TaskLimits};

    /// Every sample task runs to completion on the real executor: a devnet workload never
    /// fails because of its own inputs.
    #[test]
    fn every_sample_input_is_accepted_by_its_program() {
        let exec = Executor::new(ExecutorConfig::default()).unwrap();
        // The limits the devnet's tasks carry: the SDK's defaults.
        let l = verity_sdk::TaskSpec::optimistic(Vec::new(), Vec::new()).limits;
        let limits = TaskLimits {
            fuel: l.fuel,
            max_memory_bytes: l.max_memory_bytes,
            max_table_elements: l.max_table_elements,
            max_output_bytes: l.max_output_bytes,
        };
        for p in PROGRAMS {
            for seed in 0..3 {
                let out = exec
                    .execute(p.wasm, &p.input(seed), &limits)
                    .unwrap_or_else(|e| panic!("{} seed {seed}: {e}", p.name));
                assert!(!out.output.is_empty(), "{} produced no output", p.name);
            }
        }
        // sensor_aggregate's status word is 0 (ok) and it rejected something of each kind.
        let out = exec
            .execute(PROGRAMS[0].wasm, &PROGRAMS[0].input(1), &limits)
            .unwrap()
            .output;
        let word = |i: usize| u32::from_le_bytes(out[4 * i..4 * i + 4].try_into().unwrap());
        assert_eq!(word(0), 0, "status");
        assert!(
            word(1) > 0 && word(2) > 0 && word(3) > 0,
            "{:?}",
            &out[..16]
        );
        assert_eq!(word(1) + word(2) + word(3), 64);
    }
}
