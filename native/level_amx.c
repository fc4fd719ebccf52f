/* AMX tiles for the bf16 GEMMs (compiled with -mamx-tile -mamx-bf16 where the compiler knows them, else stubs; used
 * only when the CPU has AMX-BF16 and the OS grants this process the tile state: Intel Sapphire Rapids and later).
 * One TDPBF16PS multiplies a 16 x 32 bf16 tile of A by a 32 x 16 one of B into 16 x 16 float32 sums: 16 times the
 * products of a 512-bit vdpbf16ps, where Intel's vdpbf16ps runs at half the rate of its fp32 FMAs (the bf16 GEMM read
 * 0.59x fp32 on an Emerald Rapids).
 * Operands are level_bf16.c's packings in their AMX layout: A slivers of 16 rows, each row the block's k pairs as
 * 32-bit words (256 words a row); B slivers of 32 columns, each pair of k a row of 32 words (VNNI: (k, k + 1) of a
 * column in one word). Leaves out: int8 tiles, tiles of C kept across k blocks. */
#define _GNU_SOURCE
#include "common.h"
#include <immintrin.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__AMX_TILE__) && defined(__AMX_BF16__)

#define ARCH_GET_XCOMP_PERM 0x1022
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

/* asks Linux for the tile data state (off by default for every process since 5.16); 1 when granted */
int rlaif_amx_request(void) {
#ifdef SYS_arch_prctl
  if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) return 0;
  unsigned long granted = 0;
  if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &granted) != 0) return 0;
  return (granted >> XFEATURE_XTILEDATA) & 1;
#else
  return 0;
#endif
}

typedef struct {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} __attribute__((packed)) TileConfig;

static __thread int configured; /* the tile configuration is per thread (saved with it on a context switch) */

static void configure(void) {
  TileConfig cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.palette = 1;
  for (int i = 0; i < 8; i++) { cfg.colsb[i] = 64; cfg.rows[i] = 16; }
  _tile_loadconfig(&cfg);
  configured = 1;
}

/* t (rows x 32, row stride 32 floats) = A sliver(s) . B sliver over ppad pairs (a multiple of 16): a (16 or 32 rows,
 * 256 words a row, the second sliver 16 x 256 words on), b (ppad rows of 32 words); two: both A slivers (32 rows) */
void rlaif_amx_tiles(const uint32_t *a, const uint32_t *b, long ppad, int two, float *t) {
  if (!configured) configure();
  _tile_zero(0);
  _tile_zero(1);
  if (two) {
    _tile_zero(2);
    _tile_zero(3);
    for (long p = 0; p < ppad; p += 16) {
      _tile_loadd(4, a + p, 1024);
      _tile_loadd(6, b + p * 32, 128);
      _tile_loadd(7, b + p * 32 + 16, 128);
      _tile_loadd(5, a + 16 * 256 + p, 1024);
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(2, t + 16 * 32, 128);
    _tile_stored(3, t + 16 * 32 + 16, 128);
  } else {
    for (long p = 0; p < ppad; p += 16) {
      _tile_loadd(4, a + p, 1024);
      _tile_loadd(6, b + p * 32, 128);
      _tile_loadd(7, b + p * 32 + 16, 128);
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
    }
  }
  _tile_stored(0, t, 128);
  _tile_stored(1, t + 16, 128);
}

#else /* a compiler without the AMX flags (GCC before 11): never asks for the tile state, so the tiles never run */

#include <stdlib.h>

int rlaif_amx_request(void) { return 0; }

void rlaif_amx_tiles(const uint32_t *a, const uint32_t *b, long ppad, int two, float *t) {
  (void)a; (void)b; (void)ppad; (void)two; (void)t;
  abort();
}

#endif
