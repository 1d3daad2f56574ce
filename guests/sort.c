/* Sorts u32 values ascending with an LSD radix sort (four passes of 8 bits).
 * Input:  the values, u32 LE each (the length must be a multiple of 4, else trap).
 * Output: the same values sorted ascending, u32 LE each. */
#include "verity.h"

VERITY_ENTRY {
    uint32_t len;
    uint8_t *in = verity_read_all(&len);
    if (len % 4 != 0) {
        __builtin_trap();
    }
    uint32_t n = len / 4;
    uint32_t *keys = verity_alloc(4 * n);
    uint32_t *tmp = verity_alloc(4 * n);
    for (uint32_t i = 0; i < n; i++) {
        keys[i] = verity_le32(in + 4 * i);
    }
    for (uint32_t shift = 0; shift < 32; shift += 8) {
        uint32_t count[256] = {0};
        for (uint32_t i = 0; i < n; i++) {
            count[(keys[i] >> shift) & 0xff]++;
        }
        uint32_t sum = 0;
        for (uint32_t d = 0; d < 256; d++) {
            uint32_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (uint32_t i = 0; i < n; i++) {
            uint32_t k = keys[i];
            tmp[count[(k >> shift) & 0xff]++] = k;
        }
        uint32_t *swap = keys;
        keys = tmp;
        tmp = swap;
    }
    for (uint32_t i = 0; i < n; i++) {
        verity_put_le32(in + 4 * i, keys[i]);
    }
    verity_write_output(in, len);
}
