/* gemv_bf16 on AVX512_BF16 (compiled with -mavx512bf16, picked at run time by rlaif_table_bf16 when the CPU has it):
 * vdpbf16ps multiplies 32 bf16 pairs and adds them into 16 float32 sums, so a weight row is read as bf16 (half the
 * bytes of float32) and never widened. Same contract as level_ops.c's plain gemv_bf16 (its reference); vdpbf16ps
 * flushes denormals, which the plain path keeps (a difference below any tolerance that matters for generation). */
#include "common.h"
#include <immintrin.h>
#include <string.h>

/* R rows of A (1 or 4) against W row wr: per row two chains of vdpbf16ps (even and odd 32-blocks of k), then the tail,
 * summed in _mm512_reduce_add_ps's order. Four rows at a time, a W row read once feeds 8 independent chains (one row's
 * two chains of K / 64 dependent steps each left the core waiting on vdpbf16ps's latency: 8 x 50257 x 768, the 124M's
 * LM head at batch 8, took 5.4 ms with its W read at 14 GB/s), and the four sums are reduced together. Each element's
 * arithmetic is the same whatever R, so a row's bits do not depend on the rows beside it. */
static inline __attribute__((always_inline)) void dp_rows(const uint16_t *ab, const uint16_t *wr, float *c, long N,
                                                            long K, long kv, __mmask32 tail, const int R) {
  __m512 acc0[4], acc1[4];
  for (int r = 0; r < R; r++) acc0[r] = acc1[r] = _mm512_setzero_ps();
  long k = 0;
  for (; k + 64 <= kv; k += 64) {
    __m512bh w0 = (__m512bh)_mm512_loadu_si512(wr + k), w1 = (__m512bh)_mm512_loadu_si512(wr + k + 32);
    for (int r = 0; r < R; r++) {
      acc0[r] = _mm512_dpbf16_ps(acc0[r], (__m512bh)_mm512_loadu_si512(ab + r * K + k), w0);
      acc1[r] = _mm512_dpbf16_ps(acc1[r], (__m512bh)_mm512_loadu_si512(ab + r * K + k + 32), w1);
    }
  }
  if (k < kv) {
    __m512bh w0 = (__m512bh)_mm512_loadu_si512(wr + k);
    for (int r = 0; r < R; r++) acc0[r] = _mm512_dpbf16_ps(acc0[r], (__m512bh)_mm512_loadu_si512(ab + r * K + k), w0);
    k += 32;
  }
  if (k < K) { /* zero-filled pairs add nothing */
    __m512bh w1 = (__m512bh)_mm512_maskz_loadu_epi16(tail, wr + k);
    for (int r = 0; r < R; r++)
      acc1[r] = _mm512_dpbf16_ps(acc1[r], (__m512bh)_mm512_maskz_loadu_epi16(tail, ab + r * K + k), w1);
  }
  if (R == 4) { /* _mm512_reduce_add_ps's tree for four rows at once: each add pairs the same two sums as it does */
    __m512 x0 = _mm512_add_ps(acc0[0], acc1[0]), x1 = _mm512_add_ps(acc0[1], acc1[1]);
    __m512 x2 = _mm512_add_ps(acc0[2], acc1[2]), x3 = _mm512_add_ps(acc0[3], acc1[3]);
    /* halves: [lo x0, lo x1] + [hi x0, hi x1] (256-bit), the same for x2, x3 */
    __m512 h01 = _mm512_add_ps(_mm512_shuffle_f32x4(x0, x1, 0xEE), _mm512_shuffle_f32x4(x0, x1, 0x44));
    __m512 h23 = _mm512_add_ps(_mm512_shuffle_f32x4(x2, x3, 0xEE), _mm512_shuffle_f32x4(x2, x3, 0x44));
    /* quarters: 128-bit lane r = hi128 + lo128 of row r's 256-bit sum */
    __m512 q = _mm512_add_ps(_mm512_shuffle_f32x4(h01, h23, 0xDD), _mm512_shuffle_f32x4(h01, h23, 0x88));
    q = _mm512_add_ps(q, _mm512_permute_ps(q, 0x4E)); /* [0] + [2], [1] + [3] in each lane */
    q = _mm512_add_ps(q, _mm512_permute_ps(q, 0xB1)); /* then [0] + [1] */
    float t[16] __attribute__((aligned(64)));
    _mm512_store_ps(t, q);
    c[0] = t[0]; c[N] = t[4]; c[2 * N] = t[8]; c[3 * N] = t[12];
    return;
  }
  for (int r = 0; r < R; r++) c[r * N] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[r], acc1[r]));
}

void rlaif_gemv_bf16_dpbf16(const float *af, const uint16_t *ab, const uint16_t *w, float *c, long M, long N, long K,
                            long n0, long n1) {
  (void)af;
  long kv = K / 32 * 32;
  __mmask32 tail = (__mmask32)((1ULL << (K - kv)) - 1ULL);
  for (long n = n0; n < n1; n++) {
    const uint16_t *wr = w + n * K;
    if (n + 4 < n1) _mm_prefetch((const char *)(wr + 4 * K), _MM_HINT_T0);
    if (M >= 4 && n + 2 < n1) /* rows take long enough here that the whole row two ahead is fetched in time */
      for (long k = 0; k < K; k += 32) _mm_prefetch((const char *)(wr + 2 * K + k), _MM_HINT_T0);
    long m = 0;
    for (; m + 4 <= M; m += 4) dp_rows(ab + m * K, wr, c + m * N + n, N, K, kv, tail, 4);
    for (; m < M; m++) dp_rows(ab + m * K, wr, c + m * N + n, N, K, kv, tail, 1);
  }
}

/* ---- bf16 GEMM on vdpbf16ps: C (M, N) = A (M, K) W^T, A and W (N, K) bf16, float32 sums ----
 * Operands packed as 32-bit words holding a pair (k, k+1) of bf16 values: A in slivers of BMR rows (pairs x BMR words),
 * W in slivers of BNR columns (pairs x BNR words), so one vdpbf16ps adds two products per lane: a BMR x BNR register
 * tile of 28 accumulators takes a broadcast A pair and two 16-word W vectors per pair of k. */
#define BMR 14
#define BNR 32
#define BKC 512 /* k per block: an A sliver of BMR x 256 pairs x 4 bytes = 14 KiB stays in L1 (half of a 32 KiB one) while B slivers stream from L2 */

/* 0: the vdpbf16ps tiles below; 1: AMX tiles (level_amx.c); 2: the AMX layout with its tiles computed in plain C
 * (RLAIF_AMX=emulate: tests of the AMX packings and stores on CPUs without AMX). Set once, by dispatch.c, before the
 * first bf16 GEMM. The AMX layout: A slivers of AMR rows, each row a block's k pairs (APAIRS words); B as below, its
 * pairs padded with zero rows to a multiple of 16 (a tile's depth). */
int rlaif_amx_mode;
#define AMR 16
#define APAIRS (BKC / 2)
static inline long pad16(long pairs) { return (pairs + 15) / 16 * 16; }

static inline uint32_t pair_at(const uint16_t *row, long k, long kend) {
  return (uint32_t)row[k] | (k + 1 < kend ? (uint32_t)row[k + 1] << 16 : 0u);
}

long rlaif_bf16_sliver_rows(void) { return rlaif_amx_mode ? AMR : BMR; }

long rlaif_bf16_pack_a_words(long M, long K) { /* words of the packed A for all of K */
  long rows = rlaif_bf16_sliver_rows(), slivers = (M + rows - 1) / rows, blocks = (K + BKC - 1) / BKC;
  return blocks * slivers * (BKC / 2) * rows;
}

static void pack_w_words(const uint16_t *w, long K, long n0, long n1, long k0, long kend, uint32_t *out, long stride);

/* W's columns [n0, n1) for k in [k0, kend): slivers of BNR columns, `stride` pairs apart (>= the block's pairs; the
 * rows between are zero) */
static void pack_w(const uint16_t *w, long K, long n0, long n1, long k0, long kend, uint32_t *out, long stride) {
  long pairs = (kend - k0 + 1) / 2;
  if (stride > pairs)
    for (long j0 = n0; j0 < n1; j0 += BNR) memset(out + (j0 - n0) * stride + pairs * BNR, 0, sizeof(uint32_t) * (size_t)((stride - pairs) * BNR));
  if (K % 2 == 0) { pack_w_words(w, K, n0, n1, k0, kend, out, stride); return; }
  for (long j0 = n0; j0 < n1; j0 += BNR) {
    uint32_t *o = out + (j0 - n0) * stride;
    for (int j = 0; j < BNR; j++) {
      if (j0 + j >= n1) { for (long p = 0; p < pairs; p++) o[p * BNR + j] = 0; continue; }
      const uint16_t *r = w + (j0 + j) * K;
      for (long p = 0; p < pairs; p++) o[p * BNR + j] = pair_at(r, k0 + 2 * p, kend);
    }
  }
}

static inline __mmask16 first16(long n) { return n >= 16 ? (__mmask16)0xffff : n <= 0 ? 0 : (__mmask16)((1u << n) - 1u); }

#define BDECL(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps();
#define BDP(i) { __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]); \
    c##i##0 = _mm512_dpbf16_ps(c##i##0, ai, b0); c##i##1 = _mm512_dpbf16_ps(c##i##1, ai, b1); }
#define BSTORE(i) { float *cr = t + (i) * BNR; _mm512_storeu_ps(cr, c##i##0); _mm512_storeu_ps(cr + 16, c##i##1); }
#define BPUT(i) { float *cr = c + (i) * ldc; _mm512_storeu_ps(cr, c##i##0); _mm512_storeu_ps(cr + 16, c##i##1); }
#define BADD(i) { float *cr = c + (i) * ldc; _mm512_storeu_ps(cr, _mm512_add_ps(c##i##0, _mm512_loadu_ps(cr))); \
    _mm512_storeu_ps(cr + 16, _mm512_add_ps(c##i##1, _mm512_loadu_ps(cr + 16))); }
#define BROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)

/* c (mr, nr) = (accumulate ? c : 0) + a-sliver . b-sliver over `pairs` pairs of k (+ bias (nr) on every row, when
 * not NULL) */
static void ukernel_bf16(long pairs, const uint32_t *restrict a, const uint32_t *restrict b, float *c, long ldc,
                         long mr, long nr, int accumulate, const float *bias) {
  BROWS(BDECL)
  for (long p = 0; p < pairs; p++) {
    __m512bh b0 = (__m512bh)_mm512_loadu_si512(b), b1 = (__m512bh)_mm512_loadu_si512(b + 16);
    BROWS(BDP)
    a += BMR; b += BNR;
  }
  if (bias) {
    __m512 bias0 = _mm512_maskz_loadu_ps(first16(nr), bias), bias1 = _mm512_maskz_loadu_ps(first16(nr - 16), bias + 16);
#define BBIAS(i) c##i##0 = _mm512_add_ps(c##i##0, bias0); c##i##1 = _mm512_add_ps(c##i##1, bias1);
    BROWS(BBIAS)
#undef BBIAS
  }
  if (mr == BMR && nr == BNR) { /* a full tile: straight from the registers into C */
    if (accumulate) { BROWS(BADD) } else { BROWS(BPUT) }
    return;
  }
  float t[BMR * BNR] __attribute__((aligned(64)));
  BROWS(BSTORE)
  for (long i = 0; i < mr; i++)
    for (long j = 0; j < nr; j++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + t[i * BNR + j] : t[i * BNR + j];
}

/* columns [n0, n1) of C (M, N), every row, from the packed A; packs its own W block per k block into packW
 * (BKC / 2 x (n1 - n0 rounded up to BNR) words) */
static void amx_gemm_columns(const uint32_t *packA, const uint16_t *w, float *c, long M, long N, long K, long n0,
                             long n1, uint32_t *packW);

void rlaif_bf16_gemm_columns(const uint32_t *packA, const uint16_t *w, float *c, long M, long N, long K, long n0,
                             long n1, uint32_t *packW) {
  if (rlaif_amx_mode) { amx_gemm_columns(packA, w, c, M, N, K, n0, n1, packW); return; }
  long slivers = (M + BMR - 1) / BMR;
  for (long k0 = 0, blk = 0; k0 < K; k0 += BKC, blk++) {
    long kend = k0 + BKC < K ? k0 + BKC : K, pairs = (kend - k0 + 1) / 2;
    pack_w(w, K, n0, n1, k0, kend, packW, pairs);
    const uint32_t *ablk = packA + blk * slivers * (BKC / 2) * BMR;
    for (long s = 0; s < slivers; s++) {
      long mr = M - s * BMR < BMR ? M - s * BMR : BMR;
      for (long j0 = n0; j0 < n1; j0 += BNR) {
        long nr = n1 - j0 < BNR ? n1 - j0 : BNR;
        ukernel_bf16(pairs, ablk + s * (BKC / 2) * BMR, packW + (j0 - n0) * pairs, c + s * BMR * N + j0, N, mr, nr,
                     k0 > 0, NULL);
      }
    }
  }
}

long rlaif_bf16_pack_w_words(long ncols) { return (BKC / 2) * ((ncols + BNR - 1) / BNR * BNR); }
long rlaif_mixed_block_k(void) { return BKC; }

/* ---- mixed-precision GEMM (training): fp32 operands of any strides, rounded to bf16 (nearest even, vcvtne2ps2bf16)
 * while they are packed, into the same pair layouts as above, for all of K at once; then tiles of C on ukernel_bf16.
 * op(A)[i, k] = a[i * rsa + k * csa], op(B)[k, j] = b[k * rsb + j * csb]. Packed A: per k block, per 14-row sliver,
 * (BKC / 2) x BMR words; packed B: per k block, per 32-column sliver, (BKC / 2) x BNR words. Unit-stride layouts are
 * vectorized: where k is the strided axis the pair interleave is one vpermw, where k is contiguous 16 x 16 blocks of
 * pair words are transposed in registers; other strides take a scalar path. */
static inline uint16_t round_bf16_scalar(float x) {
  union { float f; uint32_t u; } v = { .f = x };
  if ((v.u & 0x7f800000u) == 0x7f800000u && (v.u & 0x007fffffu)) return (uint16_t)((v.u >> 16) | 0x0040u);
  return (uint16_t)((v.u + 0x7fffu + ((v.u >> 16) & 1u)) >> 16);
}

static inline __m512i pair_interleave(__m512 even, __m512 odd) { /* 16 words: (bf16 even[l], bf16 odd[l]) */
  const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21,
                                       5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(idx, (__m512i)_mm512_cvtne2ps_pbh(odd, even));
}


/* r[i][j] -> r[j][i] for a 16 x 16 block of 32-bit words (4 shuffle stages) */
static inline void transpose16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 4; j++) {
      t[8 * i + j] = _mm512_shuffle_i32x4(r[8 * i + j], r[8 * i + 4 + j], 0x88);
      t[8 * i + 4 + j] = _mm512_shuffle_i32x4(r[8 * i + j], r[8 * i + 4 + j], 0xdd);
    }
  for (int j = 0; j < 8; j++) {
    r[j] = _mm512_shuffle_i32x4(t[j], t[8 + j], 0x88);
    r[8 + j] = _mm512_shuffle_i32x4(t[j], t[8 + j], 0xdd);
  }
}

/* W (N, K) bf16 with K even: pair p of a row from k0 (a multiple of BKC) is the 32-bit word at row + k0 + 2p, so
 * packing is a transpose of words, 16 columns x 16 pairs at a time in registers (masked loads past the block's pairs,
 * zero columns past n1), instead of one scalar pair per element. */
static void words_16x16(const uint16_t *rows[16], long p0, long np, __m512i r[16]) {
  __mmask16 m = first16(np);
  for (int j = 0; j < 16; j++) r[j] = rows[j] ? _mm512_maskz_loadu_epi32(m, rows[j] + 2 * p0) : _mm512_setzero_si512();
  transpose16(r); /* r[p] = the 16 rows' words at pair p0 + p */
}

static void pack_w_words(const uint16_t *w, long K, long n0, long n1, long k0, long kend, uint32_t *out, long stride) {
  long pairs = (kend - k0) / 2;
  for (long j0 = n0; j0 < n1; j0 += BNR) {
    uint32_t *o = out + (j0 - n0) * stride;
    for (int h = 0; h < BNR; h += 16) {
      const uint16_t *rows[16];
      for (int j = 0; j < 16; j++) rows[j] = j0 + h + j < n1 ? w + (j0 + h + j) * K + k0 : NULL;
      for (long p0 = 0; p0 < pairs; p0 += 16) {
        long np = pairs - p0 < 16 ? pairs - p0 : 16;
        __m512i r[16];
        words_16x16(rows, p0, np, r);
        for (long p = 0; p < np; p++) _mm512_storeu_si512(o + (p0 + p) * BNR + h, r[p]);
      }
    }
  }
}

/* 16 words of pairs (k, k + 1) from a row with k contiguous: kk = first k, left = k still in the block from kk */
static inline __m512i row_pairs(const float *r, long kk, long left) {
  __m512 lo = _mm512_maskz_loadu_ps(first16(left), r + kk), hi = _mm512_maskz_loadu_ps(first16(left - 16), r + kk + 16);
  return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

/* how far ahead (in k) the row-by-row packing paths prefetch their source rows, into L2: the hardware prefetchers
 * follow a row within its page, not the jump to the next rows. Into L1 (T0), 16 rows of a 512-wide operand (32 KiB)
 * evicted the block being packed: 1.17x a product with operands in cache (bench/addon-ab.ts) */
#define MIXED_PREFETCH_ROWS 16
/* the two source rows MIXED_PREFETCH_ROWS ahead of row r (rows `stride` floats apart), columns [c0, c1), into L2 */
static inline void prefetch_rows_ahead(const float *r, long stride, long c0, long c1) {
  for (long c = c0; c < c1; c += 16) {
    _mm_prefetch((const char *)(r + MIXED_PREFETCH_ROWS * stride + c), _MM_HINT_T1);
    _mm_prefetch((const char *)(r + (MIXED_PREFETCH_ROWS + 1) * stride + c), _MM_HINT_T1);
  }
}

long rlaif_mixed_pack_b_words(long N, long K) {
  return (K + BKC - 1) / BKC * ((N + BNR - 1) / BNR) * (BKC / 2) * BNR;
}

/* A slivers [s0, s1) (rows s * BMR ...), every k block; rows past M and the odd k past K are zero */
static void amx_pack_a(const float *a, long rsa, long csa, long M, long K, long s0, long s1, uint32_t *out);

void rlaif_mixed_pack_a(const float *a, long rsa, long csa, long M, long K, long s0, long s1, uint32_t *out) {
  if (rlaif_amx_mode) { amx_pack_a(a, rsa, csa, M, K, s0, s1, out); return; }
  long slivers = (M + BMR - 1) / BMR;
  for (long k0 = 0, blk = 0; k0 < K; k0 += BKC, blk++) {
    long kend = k0 + BKC < K ? k0 + BKC : K, pairs = (kend - k0 + 1) / 2;
    uint32_t *ob = out + blk * slivers * (BKC / 2) * BMR;
    if (rsa == 1) { /* transposed A (x^T of a weight gradient): rows contiguous for each k; read row k in order */
      for (long p = 0; p < pairs; p++) {
        const float *r = a + (k0 + 2 * p) * csa;
        int odd = k0 + 2 * p + 1 < kend;
        if (k0 + 2 * p + MIXED_PREFETCH_ROWS + 1 < K) /* usually cold: saved activations */
          prefetch_rows_ahead(r, csa, s0 * BMR, s1 * BMR < M ? s1 * BMR : M);
        for (long s = s0; s < s1; s++) {
          __mmask16 rm = first16(M - s * BMR);
          __m512 even = _mm512_maskz_loadu_ps(rm, r + s * BMR);
          __m512 oddv = odd ? _mm512_maskz_loadu_ps(rm, r + csa + s * BMR) : _mm512_setzero_ps();
          _mm512_mask_storeu_epi32(ob + s * (BKC / 2) * BMR + p * BMR, (__mmask16)((1u << BMR) - 1u),
                                   pair_interleave(even, oddv));
        }
      }
      continue;
    }
    for (long s = s0; s < s1; s++) {
      uint32_t *o = ob + s * (BKC / 2) * BMR;
      long rows = M - s * BMR < BMR ? M - s * BMR : BMR;
      if (csa == 1) { /* row-major A: 16 pairs of each of the sliver's rows, transposed to 16 words per pair */
        for (long p0 = 0; p0 < pairs; p0 += 16) {
          __m512i r[16];
          for (long i = 0; i < 16; i++)
            r[i] = i < rows ? row_pairs(a + (s * BMR + i) * rsa, k0 + 2 * p0, kend - k0 - 2 * p0) : _mm512_setzero_si512();
          transpose16(r);
          long np = pairs - p0 < 16 ? pairs - p0 : 16;
          for (long p = 0; p < np; p++) _mm512_mask_storeu_epi32(o + (p0 + p) * BMR, (__mmask16)((1u << BMR) - 1u), r[p]);
        }
      } else {
        for (long i = 0; i < BMR; i++)
          for (long p = 0; p < pairs; p++) {
            long k = k0 + 2 * p, row = s * BMR + i;
            uint32_t lo = row < M ? round_bf16_scalar(a[row * rsa + k * csa]) : 0;
            uint32_t hi = row < M && k + 1 < kend ? round_bf16_scalar(a[row * rsa + (k + 1) * csa]) : 0;
            o[p * BMR + i] = lo | hi << 16;
          }
      }
    }
  }
}

/* B slivers [t0, t1) (columns t * BNR ...), every k block; columns past N and the odd k past K are zero; sums (may
 * be NULL) += the column sums of those columns, float32, summed on the row-major path as the rows are packed */
void rlaif_mixed_pack_b(const float *b, long rsb, long csb, long N, long K, long t0, long t1, uint32_t *out,
                        float *sums) {
  long slivers = (N + BNR - 1) / BNR;
  if (sums && csb != 1) { /* the transposed and strided paths: a plain pass first */
    for (long j = t0 * BNR; j < t1 * BNR && j < N; j++) {
      float s = 0.0f;
      for (long k = 0; k < K; k++) s += b[k * rsb + j * csb];
      sums[j] += s;
    }
  }
  for (long k0 = 0, blk = 0; k0 < K; k0 += BKC, blk++) {
    long kend = k0 + BKC < K ? k0 + BKC : K, pairs = (kend - k0 + 1) / 2;
    uint32_t *ob = out + blk * slivers * (BKC / 2) * BNR;
    if (rlaif_amx_mode && pad16(pairs) > pairs) /* a tile reads whole 16-pair rows: zeros past the block's pairs */
      for (long t = t0; t < t1; t++)
        memset(ob + t * (BKC / 2) * BNR + pairs * BNR, 0, sizeof(uint32_t) * (size_t)((pad16(pairs) - pairs) * BNR));
    if (csb == 1) { /* op(B) row-major (K, N): a pair of k rows gives 32 words per sliver; rows read in order */
      for (long p = 0; p < pairs; p++) {
        const float *r = b + (k0 + 2 * p) * rsb;
        int odd = k0 + 2 * p + 1 < kend;
        if (k0 + 2 * p + MIXED_PREFETCH_ROWS + 1 < K) /* usually cold: gradients */
          prefetch_rows_ahead(r, rsb, t0 * BNR, t1 * BNR < N ? t1 * BNR : N);
        for (long t = t0; t < t1; t++) {
          long cols = N - t * BNR;
          __mmask16 m0 = first16(cols), m1 = first16(cols - 16);
          const float *rt = r + t * BNR;
          __m512 e0 = _mm512_maskz_loadu_ps(m0, rt), e1 = _mm512_maskz_loadu_ps(m1, rt + 16);
          __m512 o0 = odd ? _mm512_maskz_loadu_ps(m0, rt + rsb) : _mm512_setzero_ps();
          __m512 o1 = odd ? _mm512_maskz_loadu_ps(m1, rt + rsb + 16) : _mm512_setzero_ps();
          uint32_t *o = ob + t * (BKC / 2) * BNR + p * BNR;
          _mm512_storeu_si512(o, pair_interleave(e0, o0));
          _mm512_storeu_si512(o + 16, pair_interleave(e1, o1));
          if (sums) {
            float *st = sums + t * BNR;
            _mm512_mask_storeu_ps(st, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, st), _mm512_add_ps(e0, o0)));
            _mm512_mask_storeu_ps(st + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, st + 16), _mm512_add_ps(e1, o1)));
          }
        }
      }
      continue;
    }
    for (long t = t0; t < t1; t++) {
      uint32_t *o = ob + t * (BKC / 2) * BNR;
      long cols = N - t * BNR < BNR ? N - t * BNR : BNR;
      if (rsb == 1) { /* op(B) = W^T with W (N, K) row-major: 16 pairs of 16 columns, transposed */
        for (long h = 0; h < BNR; h += 16)
          for (long p0 = 0; p0 < pairs; p0 += 16) {
            __m512i r[16];
            for (long j = 0; j < 16; j++)
              r[j] = h + j < cols ? row_pairs(b + (t * BNR + h + j) * csb, k0 + 2 * p0, kend - k0 - 2 * p0)
                                  : _mm512_setzero_si512();
            transpose16(r);
            long np = pairs - p0 < 16 ? pairs - p0 : 16;
            for (long p = 0; p < np; p++) _mm512_storeu_si512(o + (p0 + p) * BNR + h, r[p]);
          }
      } else {
        for (long j = 0; j < BNR; j++)
          for (long p = 0; p < pairs; p++) {
            long k = k0 + 2 * p, col = t * BNR + j;
            uint32_t lo = col < N ? round_bf16_scalar(b[k * rsb + col * csb]) : 0;
            uint32_t hi = col < N && k + 1 < kend ? round_bf16_scalar(b[(k + 1) * rsb + col * csb]) : 0;
            o[p * BNR + j] = lo | hi << 16;
          }
      }
    }
  }
}

/* C tiles of A slivers [s0, s1) x B slivers [t0, t1) from the packed operands: C (+)= A B (accumulate: add to C),
 * + bias (N, may be NULL) on every row, added with the first k block */
static void amx_compute(const uint32_t *packA, const uint32_t *packB, float *c, long ldc, long M, long N, long K,
                        long s0, long s1, long t0, long t1, int accumulate, const float *bias);

void rlaif_mixed_compute(const uint32_t *packA, const uint32_t *packB, float *c, long ldc, long M, long N, long K,
                         long s0, long s1, long t0, long t1, int accumulate, const float *bias) {
  if (rlaif_amx_mode) { amx_compute(packA, packB, c, ldc, M, N, K, s0, s1, t0, t1, accumulate, bias); return; }
  long aslivers = (M + BMR - 1) / BMR, bslivers = (N + BNR - 1) / BNR;
  for (long k0 = 0, blk = 0; k0 < K; k0 += BKC, blk++) {
    long kend = k0 + BKC < K ? k0 + BKC : K, pairs = (kend - k0 + 1) / 2;
    for (long t = t0; t < t1; t++) {
      const uint32_t *bs = packB + (blk * bslivers + t) * (BKC / 2) * BNR;
      long nr = N - t * BNR < BNR ? N - t * BNR : BNR;
      for (long s = s0; s < s1; s++) {
        long mr = M - s * BMR < BMR ? M - s * BMR : BMR;
        ukernel_bf16(pairs, packA + (blk * aslivers + s) * (BKC / 2) * BMR, bs, c + s * BMR * ldc + t * BNR, ldc, mr,
                     nr, accumulate || blk > 0, bias && blk == 0 ? bias + t * BNR : NULL);
      }
    }
  }
}

/* ---- the AMX layout (rlaif_amx_mode): packing of A, the tiles' stores, and the loops over slivers ---- */

/* A slivers [s0, s1) of AMR rows, every k block: row i of a sliver holds the block's pairs as APAIRS words (zero past
 * the block's pairs up to a multiple of 16, and on rows past M) */
static void amx_pack_a(const float *a, long rsa, long csa, long M, long K, long s0, long s1, uint32_t *out) {
  long slivers = (M + AMR - 1) / AMR;
  for (long k0 = 0, blk = 0; k0 < K; k0 += BKC, blk++) {
    long kend = k0 + BKC < K ? k0 + BKC : K, pairs = (kend - k0 + 1) / 2;
    for (long s = s0; s < s1; s++) {
      uint32_t *o = out + (blk * slivers + s) * APAIRS * AMR;
      long rows = M - s * AMR < AMR ? M - s * AMR : AMR;
      if (csa == 1) { /* row-major A: each row's k are contiguous, as the tile wants them */
        for (long i = 0; i < AMR; i++)
          for (long p0 = 0; p0 < pairs; p0 += 16)
            _mm512_storeu_si512(o + i * APAIRS + p0, i < rows ? row_pairs(a + (s * AMR + i) * rsa, k0 + 2 * p0, kend - k0 - 2 * p0)
                                                              : _mm512_setzero_si512());
      } else if (rsa == 1) { /* transposed A: 16 rows of one k are contiguous; 16 pairs of them, transposed */
        __mmask16 rm = first16(rows);
        for (long p0 = 0; p0 < pairs; p0 += 16) {
          __m512i r[16];
          for (long q = 0; q < 16; q++) {
            long k = k0 + 2 * (p0 + q);
            if (k >= kend) { r[q] = _mm512_setzero_si512(); continue; }
            __m512 even = _mm512_maskz_loadu_ps(rm, a + k * csa + s * AMR);
            __m512 odd = k + 1 < kend ? _mm512_maskz_loadu_ps(rm, a + (k + 1) * csa + s * AMR) : _mm512_setzero_ps();
            r[q] = pair_interleave(even, odd); /* lane = row */
          }
          transpose16(r); /* r[i] = row i's 16 pairs */
          for (long i = 0; i < AMR; i++) _mm512_storeu_si512(o + i * APAIRS + p0, r[i]);
        }
      } else {
        for (long i = 0; i < AMR; i++)
          for (long p = 0; p < pad16(pairs); p++) {
            long k = k0 + 2 * p, row = s * AMR + i;
            uint32_t lo = row < M && k < kend ? round_bf16_scalar(a[row * rsa + k * csa]) : 0;
            uint32_t hi = row < M && k + 1 < kend ? round_bf16_scalar(a[row * rsa + (k + 1) * csa]) : 0;
            o[i * APAIRS + p] = lo | hi << 16;
          }
      }
    }
  }
}

/* level_amx.c's tiles computed in plain C, in the same layout (RLAIF_AMX=emulate) */
static void amx_tiles_c(const uint32_t *a, const uint32_t *b, long ppad, int two, float *t) {
  for (long i = 0; i < (two ? 2 * AMR : AMR); i++)
    for (long j = 0; j < 32; j++) {
      float sum = 0.0f;
      for (long p = 0; p < ppad; p++) {
        union { uint32_t u; float f; } alo = { a[i * APAIRS + p] << 16 }, ahi = { a[i * APAIRS + p] & 0xffff0000u };
        union { uint32_t u; float f; } blo = { b[p * 32 + j] << 16 }, bhi = { b[p * 32 + j] & 0xffff0000u };
        sum += alo.f * blo.f;
        sum += ahi.f * bhi.f;
      }
      t[i * 32 + j] = sum;
    }
}

static inline void amx_tiles(const uint32_t *a, const uint32_t *b, long ppad, int two, float *t) {
  if (rlaif_amx_mode == 1) rlaif_amx_tiles(a, b, ppad, two, t);
  else amx_tiles_c(a, b, ppad, two, t);
}

/* c (mr x nr, row stride ldc) = (accumulate ? c : 0) + t (row stride 32) + bias (nr, may be NULL) on every row */
static void amx_store(const float *t, float *c, long ldc, long mr, long nr, int accumulate, const float *bias) {
  __mmask16 m0 = first16(nr), m1 = first16(nr - 16);
  __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
  __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
  for (long i = 0; i < mr; i++) {
    float *cr = c + i * ldc;
    __m512 v0 = _mm512_add_ps(_mm512_loadu_ps(t + i * 32), b0), v1 = _mm512_add_ps(_mm512_loadu_ps(t + i * 32 + 16), b1);
    if (accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, cr));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, cr + 16));
    }
    _mm512_mask_storeu_ps(cr, m0, v0);
    _mm512_mask_storeu_ps(cr + 16, m1, v1);
  }
}

/* the tiles of one k block: A slivers [s0, s1) (two at a time) x one B sliver of nr columns */
static void amx_block(const uint32_t *ablk, const uint32_t *bs, long ppad, float *c, long ldc, long M, long s0,
                      long s1, long nr, int accumulate, const float *bias) {
  float t[2 * AMR * 32] __attribute__((aligned(64)));
  for (long s = s0; s < s1; s += 2) {
    int two = s + 1 < s1;
    long mr = M - s * AMR < (two ? 2 * AMR : AMR) ? M - s * AMR : (two ? 2 * AMR : AMR);
    amx_tiles(ablk + s * APAIRS * AMR, bs, ppad, two, t);
    amx_store(t, c + s * AMR * ldc, ldc, mr, nr, accumulate, bias);
  }
}

static void amx_compute(const uint32_t *packA, const uint32_t *packB, float *c, long ldc, long M, long N, long K,
                        long s0, long s1, long t0, long t1, int accumulate, const float *bias) {
  long aslivers = (M + AMR - 1) / AMR, bslivers = (N + BNR - 1) / BNR;
  for (long k0 = 0, blk = 0; k0 < K; k0 += BKC, blk++) {
    long kend = k0 + BKC < K ? k0 + BKC : K, ppad = pad16((kend - k0 + 1) / 2);
    for (long t = t0; t < t1; t++) {
      long nr = N - t * BNR < BNR ? N - t * BNR : BNR;
      amx_block(packA + blk * aslivers * APAIRS * AMR, packB + (blk * bslivers + t) * (BKC / 2) * BNR, ppad,
                c + t * BNR, ldc, M, s0, s1, nr, accumulate || blk > 0, bias && blk == 0 ? bias + t * BNR : NULL);
    }
  }
}

static void amx_gemm_columns(const uint32_t *packA, const uint16_t *w, float *c, long M, long N, long K, long n0,
                             long n1, uint32_t *packW) {
  long slivers = (M + AMR - 1) / AMR;
  for (long k0 = 0, blk = 0; k0 < K; k0 += BKC, blk++) {
    long kend = k0 + BKC < K ? k0 + BKC : K, ppad = pad16((kend - k0 + 1) / 2);
    pack_w(w, K, n0, n1, k0, kend, packW, ppad);
    for (long j0 = n0; j0 < n1; j0 += BNR) {
      long nr = n1 - j0 < BNR ? n1 - j0 : BNR;
      amx_block(packA + blk * slivers * APAIRS * AMR, packW + (j0 - n0) * ppad, ppad, c + j0, N, M, 0, slivers, nr,
                k0 > 0, NULL);
    }
  }
}
