/* The Verity guest ABI (version 1) for C compiled with clang --target=wasm32.
 *
 * Three host functions, all in the import module "verity". Pointers and lengths are unsigned
 * 32-bit values. Any misuse (reading past the input, touching memory outside the module's
 * memory, writing output twice or over the task's cap) ends the run with a typed host error;
 * a guest never sees an error code. See guests/README.md for the full contract.
 */
#ifndef VERITY_H
#define VERITY_H

#include <stddef.h>
#include <stdint.h>

#define VERITY_IMPORT(name) __attribute__((import_module("verity"), import_name(name)))

/* Length of the task input in bytes. */
VERITY_IMPORT("input_len") int32_t verity_input_len(void);

/* Copies input[offset .. offset + len) to dst. Returns len. */
VERITY_IMPORT("read_input") int32_t verity_read_input(void *dst, uint32_t offset, uint32_t len);

/* Sets the task output to src[0 .. len). Callable at most once per run. */
VERITY_IMPORT("write_output") void verity_write_output(const void *src, uint32_t len);

/* Entry point: every guest defines `void run(void)` and links with --export=run. */
#define VERITY_ENTRY __attribute__((export_name("run"))) void run(void)

/* A bump allocator over linear memory starting at the linker's __heap_base. Never frees; a
 * run is short and its memory is discarded with the instance. Traps when memory.grow fails,
 * which under Verity means the task's memory limit was hit (the host reports MemoryLimit). */
extern unsigned char __heap_base;
static uintptr_t verity_heap_top;

static inline void *verity_alloc(uint32_t size) {
    if (verity_heap_top == 0) {
        verity_heap_top = (uintptr_t)&__heap_base;
    }
    uintptr_t start = (verity_heap_top + 15u) & ~(uintptr_t)15u;
    if (size > UINT32_MAX - start) {
        __builtin_trap();
    }
    uintptr_t end = start + size;
    uintptr_t have = (uintptr_t)__builtin_wasm_memory_size(0) * 65536u;
    if (end > have) {
        uintptr_t pages = (end - have + 65535u) / 65536u;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) {
            __builtin_trap();
        }
    }
    verity_heap_top = end;
    return (void *)start;
}

/* Reads the whole input into freshly allocated memory. */
static inline uint8_t *verity_read_all(uint32_t *len_out) {
    uint32_t len = (uint32_t)verity_input_len();
    uint8_t *buf = verity_alloc(len);
    verity_read_input(buf, 0, len);
    *len_out = len;
    return buf;
}

static inline uint32_t verity_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t verity_le64(const uint8_t *p) {
    return (uint64_t)verity_le32(p) | (uint64_t)verity_le32(p + 4) << 32;
}

static inline void verity_put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void verity_put_le64(uint8_t *p, uint64_t v) {
    verity_put_le32(p, (uint32_t)v);
    verity_put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
