//! DePIN sensor aggregation, the algorithm and formats of `guests/sensor_aggregate.c`.
//!
//! Input (little-endian): a 32-byte header `"VSA1"`, count u32, window_start u64 (inclusive),
//! window_end u64 (exclusive), min_value i32, max_value i32 (inclusive); then `count` 16-byte
//! records: sensor_id u32, value i32, timestamp u64. Output: a 40-byte [`Report`].

use super::{le32, le64};

const MAGIC: &[u8; 4] = b"VSA1";
const HEADER: usize = 32;
const RECORD: usize = 16;

/// One sensor reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// Which sensor.
    pub sensor_id: u32,
    /// The measured value, in the sensor's integer unit.
    pub value: i32,
    /// When, in milliseconds since the Unix epoch.
    pub timestamp: u64,
}

/// A batch of readings with the window and value range to accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// First accepted timestamp.
    pub window_start: u64,
    /// First timestamp after the window.
    pub window_end: u64,
    /// Smallest accepted value.
    pub min_value: i32,
    /// Largest accepted value.
    pub max_value: i32,
    /// The readings.
    pub readings: Vec<Reading>,
}

impl Batch {
    /// The guest's input bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + RECORD * self.readings.len());
        out.extend_from_slice(MAGIC);
        let count = u32::try_from(self.readings.len()).expect("at most u32::MAX readings");
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&self.window_start.to_le_bytes());
        out.extend_from_slice(&self.window_end.to_le_bytes());
        out.extend_from_slice(&self.min_value.to_le_bytes());
        out.extend_from_slice(&self.max_value.to_le_bytes());
        for r in &self.readings {
            out.extend_from_slice(&r.sensor_id.to_le_bytes());
            out.extend_from_slice(&r.value.to_le_bytes());
            out.extend_from_slice(&r.timestamp.to_le_bytes());
        }
        out
    }
}

/// How a batch was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u32)]
pub enum Status {
    /// Aggregated.
    #[default]
    Ok = 0,
    /// Shorter than the header, or the magic is not `"VSA1"`.
    BadHeader = 1,
    /// The length is not `32 + 16 * count`.
    BadLength = 2,
    /// `window_start >= window_end` or `min_value > max_value`.
    BadBounds = 3,
}

/// The aggregate of the accepted readings (min, max and mean are 0 when none was accepted;
/// everything but `status` is 0 when the batch was malformed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Report {
    /// Whether the batch was well-formed.
    pub status: Status,
    /// Readings inside the window and the value range.
    pub accepted: u32,
    /// Readings inside the window but outside the value range.
    pub rejected_range: u32,
    /// Readings outside the window.
    pub rejected_window: u32,
    /// Sum of accepted values (two's-complement wrapping).
    pub sum: i64,
    /// Smallest accepted value.
    pub min: i32,
    /// Largest accepted value.
    pub max: i32,
    /// `sum / accepted`, truncated toward zero.
    pub mean: i64,
}

impl Report {
    /// Encoded size.
    pub const LEN: usize = 40;

    /// The guest's output bytes.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[0..4].copy_from_slice(&(self.status as u32).to_le_bytes());
        out[4..8].copy_from_slice(&self.accepted.to_le_bytes());
        out[8..12].copy_from_slice(&self.rejected_range.to_le_bytes());
        out[12..16].copy_from_slice(&self.rejected_window.to_le_bytes());
        out[16..24].copy_from_slice(&self.sum.to_le_bytes());
        out[24..28].copy_from_slice(&self.min.to_le_bytes());
        out[28..32].copy_from_slice(&self.max.to_le_bytes());
        out[32..40].copy_from_slice(&self.mean.to_le_bytes());
        out
    }

    /// Decodes the guest's output.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::LEN {
            return None;
        }
        let status = match le32(bytes, 0) {
            0 => Status::Ok,
            1 => Status::BadHeader,
            2 => Status::BadLength,
            3 => Status::BadBounds,
            _ => return None,
        };
        Some(Self {
            status,
            accepted: le32(bytes, 4),
            rejected_range: le32(bytes, 8),
            rejected_window: le32(bytes, 12),
            sum: le64(bytes, 16) as i64,
            min: le32(bytes, 24) as i32,
            max: le32(bytes, 28) as i32,
            mean: le64(bytes, 32) as i64,
        })
    }
}

/// Aggregates an encoded batch, exactly as the guest does.
pub fn aggregate(input: &[u8]) -> Report {
    let malformed = |status| Report {
        status,
        ..Report::default()
    };
    if input.len() < HEADER || &input[..4] != MAGIC {
        return malformed(Status::BadHeader);
    }
    let count = le32(input, 4);
    let window_start = le64(input, 8);
    let window_end = le64(input, 16);
    let min_value = le32(input, 24) as i32;
    let max_value = le32(input, 28) as i32;
    if input.len() as u64 != HEADER as u64 + RECORD as u64 * u64::from(count) {
        return malformed(Status::BadLength);
    }
    if window_start >= window_end || min_value > max_value {
        return malformed(Status::BadBounds);
    }
    let mut report = Report::default();
    let (mut min, mut max) = (i32::MAX, i32::MIN);
    for record in input[HEADER..].chunks_exact(RECORD) {
        let value = le32(record, 4) as i32;
        let timestamp = le64(record, 8);
        if timestamp < window_start || timestamp >= window_end {
            report.rejected_window += 1;
        } else if value < min_value || value > max_value {
            report.rejected_range += 1;
        } else {
            report.accepted += 1;
            report.sum = report.sum.wrapping_add(i64::from(value));
            min = min.min(value);
            max = max.max(value);
        }
    }
    if report.accepted > 0 {
        report.min = min;
        report.max = max;
        report.mean = report.sum / i64::from(report.accepted);
    } else {
        report.sum = 0;
    }
    report
}

/// The guest's output bytes for `input`.
pub fn run(input: &[u8]) -> Vec<u8> {
    aggregate(input).encode().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(value: i32, timestamp: u64) -> Reading {
        Reading {
            sensor_id: 1,
            value,
            timestamp,
        }
    }

    #[test]
    fn filters_then_aggregates_in_integers() {
        let batch = Batch {
            window_start: 1000,
            window_end: 2000,
            min_value: -50,
            max_value: 50,
            readings: vec![
                reading(10, 1000), // accepted (window start is inclusive)
                reading(-7, 1999), // accepted
                reading(50, 1500), // accepted (max is inclusive)
                reading(51, 1500), // out of range
                reading(0, 2000),  // out of window (end is exclusive)
                reading(99, 999),  // out of window wins over out of range
            ],
        };
        let report = aggregate(&batch.encode());
        assert_eq!(
            report,
            Report {
                status: Status::Ok,
                accepted: 3,
                rejected_range: 1,
                rejected_window: 2,
                sum: 53,
                min: -7,
                max: 50,
                mean: 17,
            }
        );
        assert_eq!(Report::decode(&report.encode()), Some(report));
    }

    #[test]
    fn mean_truncates_toward_zero() {
        let batch = Batch {
            window_start: 0,
            window_end: 10,
            min_value: -10,
            max_value: 10,
            readings: vec![reading(-3, 1), reading(-4, 2)],
        };
        assert_eq!(aggregate(&batch.encode()).mean, -3);
    }

    #[test]
    fn malformed_batches_have_a_status_and_nothing_else() {
        let ok = Batch {
            window_start: 0,
            window_end: 10,
            min_value: 0,
            max_value: 1,
            readings: vec![reading(1, 1)],
        };
        assert_eq!(aggregate(b"VSA1").status, Status::BadHeader);
        let mut bad_magic = ok.encode();
        bad_magic[0] = b'X';
        assert_eq!(aggregate(&bad_magic).status, Status::BadHeader);
        let mut truncated = ok.encode();
        truncated.pop();
        assert_eq!(aggregate(&truncated).status, Status::BadLength);
        let empty_window = Batch {
            window_end: 0,
            ..ok.clone()
        };
        assert_eq!(
            aggregate(&empty_window.encode()),
            Report {
                status: Status::BadBounds,
                ..Report::default()
            }
        );
    }
}
