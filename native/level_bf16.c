/* gemv_bf16 on AVX512_BF16 (compiled with -mavx512bf16, picked at run time by rlaif_table_bf16 when the CPU has it):
 * vdpbf16ps multiplies 32 bf16 pairs and adds them into 16 float32 sums, so a weight row is read as bf16 (half the
 * bytes of float32) and never widened. Same contract as level_ops.c's plain gemv_bf16 (its reference); vdpbf16ps
 * flushes denormals, which the plain path keeps (a difference below any tolerance that matters for generation). */
#include "common.h"
#include <immintrin.h>

void rlaif_gemv_bf16_dpbf16(const float *af, const uint16_t *ab, const uint16_t *w, float *c, long M, long N, long K,
                            long n0, long n1) {
  (void)af;
  long kv = K / 32 * 32;
  __mmask32 tail = (__mmask32)((1ULL << (K - kv)) - 1ULL);
  for (long n = n0; n < n1; n++) {
    const uint16_t *wr = w + n * K;
    if (n + 4 < n1) _mm_prefetch((const char *)(wr + 4 * K), _MM_HINT_T0);
    for (long m = 0; m < M; m++) {
      const uint16_t *ar = ab + m * K;
      __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
      long k = 0;
      for (; k + 64 <= kv; k += 64) {
        acc0 = _mm512_dpbf16_ps(acc0, (__m512bh)_mm512_loadu_si512(ar + k), (__m512bh)_mm512_loadu_si512(wr + k));
        acc1 = _mm512_dpbf16_ps(acc1, (__m512bh)_mm512_loadu_si512(ar + k + 32),
                                (__m512bh)_mm512_loadu_si512(wr + k + 32));
      }
      if (k < kv) {
        acc0 = _mm512_dpbf16_ps(acc0, (__m512bh)_mm512_loadu_si512(ar + k), (__m512bh)_mm512_loadu_si512(wr + k));
        k += 32;
      }
      if (k < K) /* zero-filled pairs add nothing */
        acc1 = _mm512_dpbf16_ps(acc1, (__m512bh)_mm512_maskz_loadu_epi16(tail, ar + k),
                                (__m512bh)_mm512_maskz_loadu_epi16(tail, wr + k));
      c[m * N + n] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    }
  }
}

/* ---- bf16 GEMM on vdpbf16ps: C (M, N) = A (M, K) W^T, A and W (N, K) bf16, float32 sums ----
 * Operands packed as 32-bit words holding a pair (k, k+1) of bf16 values: A in slivers of BMR rows (pairs x BMR words),
 * W in slivers of BNR columns (pairs x BNR words), so one vdpbf16ps adds two products per lane: a BMR x BNR register
 * tile of 28 accumulators takes a broadcast A pair and two 16-word W vectors per pair of k. */
#define BMR 14
#define BNR 32
#define BKC 256 /* k per block: a sliver pair (BMR + BNR) x 128 pairs x 4 bytes = 23 KiB stays in L1 */

static inline uint32_t pair_at(const uint16_t *row, long k, long kend) {
  return (uint32_t)row[k] | (k + 1 < kend ? (uint32_t)row[k + 1] << 16 : 0u);
}

long rlaif_bf16_pack_a_words(long M, long K) { /* words of the packed A for all of K */
  long slivers = (M + BMR - 1) / BMR, blocks = (K + BKC - 1) / BKC;
  return blocks * slivers * (BKC / 2) * BMR;
}

/* A slivers [s0, s1): for every k block, rows of the sliver interleaved pair by pair (zero rows past M, zero odd k) */
void rlaif_bf16_pack_a(const uint16_t *ab, long M, long K, long s0, long s1, uint32_t *out) {
  long slivers = (M + BMR - 1) / BMR;
  for (long k0 = 0, blk = 0; k0 < K; k0 += BKC, blk++) {
    long kend = k0 + BKC < K ? k0 + BKC : K, pairs = (kend - k0 + 1) / 2;
    for (long s = s0; s < s1; s++) {
      uint32_t *o = out + (blk * slivers + s) * (BKC / 2) * BMR;
      for (int i = 0; i < BMR; i++) {
        long row = s * BMR + i;
        if (row >= M) { for (long p = 0; p < pairs; p++) o[p * BMR + i] = 0; continue; }
        const uint16_t *r = ab + row * K;
        for (long p = 0; p < pairs; p++) o[p * BMR + i] = pair_at(r, k0 + 2 * p, kend);
      }
    }
  }
}

static void pack_w(const uint16_t *w, long K, long n0, long n1, long k0, long kend, uint32_t *out) {
  long pairs = (kend - k0 + 1) / 2;
  for (long j0 = n0; j0 < n1; j0 += BNR) {
    uint32_t *o = out + (j0 - n0) * pairs;
    for (int j = 0; j < BNR; j++) {
      if (j0 + j >= n1) { for (long p = 0; p < pairs; p++) o[p * BNR + j] = 0; continue; }
      const uint16_t *r = w + (j0 + j) * K;
      for (long p = 0; p < pairs; p++) o[p * BNR + j] = pair_at(r, k0 + 2 * p, kend);
    }
  }
}

#define BDECL(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps();
#define BDP(i) { __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]); \
    c##i##0 = _mm512_dpbf16_ps(c##i##0, ai, b0); c##i##1 = _mm512_dpbf16_ps(c##i##1, ai, b1); }
#define BSTORE(i) { float *cr = t + (i) * BNR; _mm512_storeu_ps(cr, c##i##0); _mm512_storeu_ps(cr + 16, c##i##1); }
#define BROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)

/* c (mr, nr) = (accumulate ? c : 0) + a-sliver . b-sliver over `pairs` pairs of k */
static void ukernel_bf16(long pairs, const uint32_t *restrict a, const uint32_t *restrict b, float *c, long ldc,
                         long mr, long nr, int accumulate) {
  BROWS(BDECL)
  for (long p = 0; p < pairs; p++) {
    __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + 16);
    BROWS(BDP)
    a += BMR; b += BNR;
  }
  float t[BMR * BNR] __attribute__((aligned(64)));
  BROWS(BSTORE)
  if (mr == BMR && nr == BNR) {
    for (int i = 0; i < BMR; i++) {
      float *cr = c + i * ldc;
      __m512 v0 = _mm512_load_ps(t + i * BNR), v1 = _mm512_load_ps(t + i * BNR + 16);
      if (accumulate) { v0 = _mm512_add_ps(v0, _mm512_loadu_ps(cr)); v1 = _mm512_add_ps(v1, _mm512_loadu_ps(cr + 16)); }
      _mm512_storeu_ps(cr, v0); _mm512_storeu_ps(cr + 16, v1);
    }
    return;
  }
  for (long i = 0; i < mr; i++)
    for (long j = 0; j < nr; j++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + t[i * BNR + j] : t[i * BNR + j];
}

/* columns [n0, n1) of C (M, N), every row, from the packed A; packs its own W block per k block into packW
 * (BKC / 2 x (n1 - n0 rounded up to BNR) words) */
void rlaif_bf16_gemm_columns(const uint32_t *packA, const uint16_t *w, float *c, long M, long N, long K, long n0,
                             long n1, uint32_t *packW) {
  long slivers = (M + BMR - 1) / BMR;
  for (long k0 = 0, blk = 0; k0 < K; k0 += BKC, blk++) {
    long kend = k0 + BKC < K ? k0 + BKC : K, pairs = (kend - k0 + 1) / 2;
    pack_w(w, K, n0, n1, k0, kend, packW);
    const uint32_t *ablk = packA + blk * slivers * (BKC / 2) * BMR;
    for (long s = 0; s < slivers; s++) {
      long mr = M - s * BMR < BMR ? M - s * BMR : BMR;
      for (long j0 = n0; j0 < n1; j0 += BNR) {
        long nr = n1 - j0 < BNR ? n1 - j0 : BNR;
        ukernel_bf16(pairs, ablk + s * (BKC / 2) * BMR, packW + (j0 - n0) * pairs, c + s * BMR * N + j0, N, mr, nr,
                     k0 > 0);
      }
    }
  }
}

long rlaif_bf16_pack_w_words(long ncols) { return (BKC / 2) * ((ncols + BNR - 1) / BNR * BNR); }
long rlaif_bf16_sliver_rows(void) { return BMR; }
