/* DePIN sensor aggregation: filters a batch of readings and aggregates the accepted ones in
 * integers (no floats, so the result is exact and identical everywhere).
 *
 * Input, little-endian:
 *   header (32 bytes): magic "VSA1", count u32, window_start u64 (inclusive), window_end u64
 *                      (exclusive), min_value i32, max_value i32 (both inclusive)
 *   count records (16 bytes each): sensor_id u32, value i32, timestamp u64
 * A reading is rejected as out-of-window if its timestamp is outside [window_start,
 * window_end), else as out-of-range if its value is outside [min_value, max_value].
 *
 * Output (40 bytes, little-endian): status u32, accepted u32, rejected_range u32,
 *   rejected_window u32, sum i64, min i32, max i32, mean i64 (sum / accepted, truncated toward
 *   zero). min, max and mean are 0 when nothing was accepted.
 * status: 0 ok, 1 short header or bad magic, 2 length is not 32 + 16 * count,
 *   3 empty window or min_value > max_value. When status != 0 every other field is 0. */
#include "verity.h"

#define HEADER 32u
#define RECORD 16u
#define BATCH 4096u

enum { OK = 0, BAD_HEADER = 1, BAD_LENGTH = 2, BAD_BOUNDS = 3 };

static uint8_t records[BATCH * RECORD];

static void emit(uint32_t status, uint32_t accepted, uint32_t rejected_range,
                 uint32_t rejected_window, uint64_t sum, int32_t min, int32_t max,
                 int64_t mean) {
    uint8_t out[40];
    verity_put_le32(out, status);
    verity_put_le32(out + 4, accepted);
    verity_put_le32(out + 8, rejected_range);
    verity_put_le32(out + 12, rejected_window);
    verity_put_le64(out + 16, sum);
    verity_put_le32(out + 24, (uint32_t)min);
    verity_put_le32(out + 28, (uint32_t)max);
    verity_put_le64(out + 32, (uint64_t)mean);
    verity_write_output(out, sizeof out);
}

VERITY_ENTRY {
    uint32_t len = (uint32_t)verity_input_len();
    uint8_t header[HEADER];
    if (len < HEADER) {
        emit(BAD_HEADER, 0, 0, 0, 0, 0, 0, 0);
        return;
    }
    verity_read_input(header, 0, HEADER);
    if (header[0] != 'V' || header[1] != 'S' || header[2] != 'A' || header[3] != '1') {
        emit(BAD_HEADER, 0, 0, 0, 0, 0, 0, 0);
        return;
    }
    uint32_t count = verity_le32(header + 4);
    uint64_t window_start = verity_le64(header + 8);
    uint64_t window_end = verity_le64(header + 16);
    int32_t min_value = (int32_t)verity_le32(header + 24);
    int32_t max_value = (int32_t)verity_le32(header + 28);
    if ((uint64_t)len != (uint64_t)HEADER + (uint64_t)RECORD * count) {
        emit(BAD_LENGTH, 0, 0, 0, 0, 0, 0, 0);
        return;
    }
    if (window_start >= window_end || min_value > max_value) {
        emit(BAD_BOUNDS, 0, 0, 0, 0, 0, 0, 0);
        return;
    }

    uint32_t accepted = 0, rejected_range = 0, rejected_window = 0;
    uint64_t sum = 0; /* two's complement; unsigned so that overflow is defined */
    int32_t min = INT32_MAX, max = INT32_MIN;
    for (uint32_t done = 0; done < count;) {
        uint32_t batch = count - done < BATCH ? count - done : BATCH;
        verity_read_input(records, HEADER + done * RECORD, batch * RECORD);
        for (uint32_t i = 0; i < batch; i++) {
            const uint8_t *r = records + i * RECORD;
            int32_t value = (int32_t)verity_le32(r + 4);
            uint64_t timestamp = verity_le64(r + 8);
            if (timestamp < window_start || timestamp >= window_end) {
                rejected_window++;
            } else if (value < min_value || value > max_value) {
                rejected_range++;
            } else {
                accepted++;
                sum += (uint64_t)(int64_t)value;
                min = value < min ? value : min;
                max = value > max ? value : max;
            }
        }
        done += batch;
    }
    if (accepted == 0) {
        emit(OK, 0, rejected_range, rejected_window, 0, 0, 0, 0);
        return;
    }
    int64_t mean = (int64_t)sum / (int64_t)accepted;
    emit(OK, accepted, rejected_range, rejected_window, sum, min, max, mean);
}
