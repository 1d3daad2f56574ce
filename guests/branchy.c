/* Data-dependent branching: a four-register state machine driven by the input bytes, which
 * choose among seven different updates; on random input the branches are unpredictable.
 * Input:  any bytes.
 * Output: the four registers a, b, c, d, u32 LE each (16 bytes). */
#include "verity.h"

static inline uint32_t rotl(uint32_t v, uint32_t r) {
    r &= 31u;
    return r == 0 ? v : (v << r) | (v >> (32u - r));
}

VERITY_ENTRY {
    uint32_t len;
    uint8_t *in = verity_read_all(&len);
    uint32_t a = 0x811c9dc5u, b = 0, c = 0, d = 0;
    for (uint32_t i = 0; i < len; i++) {
        uint32_t x = in[i];
        if (x < 96u) {
            a = (a ^ x) * 16777619u;
        } else if (x < 160u) {
            b += x;
            if (b & 1u) {
                c ^= a;
            }
        } else if (x < 224u) {
            switch (x & 3u) {
            case 0:
                c += a >> 3;
                break;
            case 1:
                c -= b;
                break;
            case 2:
                d ^= c << 1;
                break;
            default:
                d += 1u;
                break;
            }
        } else {
            a = rotl(a, x);
            d += a & 0xffu;
        }
    }
    uint8_t out[16];
    verity_put_le32(out, a);
    verity_put_le32(out + 4, b);
    verity_put_le32(out + 8, c);
    verity_put_le32(out + 12, d);
    verity_write_output(out, 16);
}
