/* Single-threaded blocked GEMM for one CPU level (compiled three times: -DRLAIF_LEVEL=avx512|avx2|generic with
 * matching -m flags). BLIS loop order: NC panels of B packed to L3, KC x MC blocks of A packed to L2, MR x NR
 * register micro-kernel over zero-padded slivers; edge tiles go through a small buffer. Threading is in gemm.c. */
#include "common.h"
#include "level.h"
#include <string.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#define MR 14
#define NR 32
#ifndef MC
#define MC 336
#endif
#ifndef KC
#define KC 256
#endif
#ifndef NC
#define NC 3072
#endif

#define DECL(i) __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps();
#define FMA(i) { __m512 ai = _mm512_set1_ps(a[i]); \
    c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0); c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1); }
#define STORE(i) { float *cr = c + (i) * ldc; \
    if (beta == 0.0f) { c##i##0 = _mm512_mul_ps(va, c##i##0); c##i##1 = _mm512_mul_ps(va, c##i##1); } \
    else { c##i##0 = _mm512_fmadd_ps(va, c##i##0, _mm512_mul_ps(vb, _mm512_loadu_ps(cr))); \
      c##i##1 = _mm512_fmadd_ps(va, c##i##1, _mm512_mul_ps(vb, _mm512_loadu_ps(cr + 16))); } \
    if (bias) { c##i##0 = _mm512_add_ps(c##i##0, bias0); c##i##1 = _mm512_add_ps(c##i##1, bias1); } \
    _mm512_storeu_ps(cr, c##i##0); _mm512_storeu_ps(cr + 16, c##i##1); }
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)

/* c (MR, NR) = alpha * a-sliver (kc, MR) . b-sliver (kc, NR) + beta * c */
static void ukernel(long kc, const float *restrict a, const float *restrict b, float *restrict c, long ldc,
                    float alpha, float beta, const float *restrict bias) {
  ROWS(DECL)
  for (int i = 0; i < MR; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
  long k = 0;
  for (; k + 4 <= kc; k += 4) {
#pragma GCC unroll 4
    for (int u = 0; u < 4; u++) {
      _mm_prefetch((const char *)(b + 8 * NR), _MM_HINT_T0);
      __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
      ROWS(FMA)
      a += MR; b += NR;
    }
  }
  for (; k < kc; k++) {
    __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
    ROWS(FMA)
    a += MR; b += NR;
  }
  __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  __m512 bias0 = _mm512_setzero_ps(), bias1 = bias0;
  if (bias) { bias0 = _mm512_loadu_ps(bias); bias1 = _mm512_loadu_ps(bias + 16); }
  ROWS(STORE)
}

#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define MR 6
#define NR 16
#ifndef MC
#define MC 144
#endif
#ifndef KC
#define KC 256
#endif
#ifndef NC
#define NC 3072
#endif

#define DECL(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = _mm256_setzero_ps();
#define FMA(i) { __m256 ai = _mm256_broadcast_ss(a + i); \
    c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0); c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1); }
#define STORE(i) { float *cr = c + (i) * ldc; \
    if (beta == 0.0f) { c##i##0 = _mm256_mul_ps(va, c##i##0); c##i##1 = _mm256_mul_ps(va, c##i##1); } \
    else { c##i##0 = _mm256_fmadd_ps(va, c##i##0, _mm256_mul_ps(vb, _mm256_loadu_ps(cr))); \
      c##i##1 = _mm256_fmadd_ps(va, c##i##1, _mm256_mul_ps(vb, _mm256_loadu_ps(cr + 8))); } \
    if (bias) { c##i##0 = _mm256_add_ps(c##i##0, bias0); c##i##1 = _mm256_add_ps(c##i##1, bias1); } \
    _mm256_storeu_ps(cr, c##i##0); _mm256_storeu_ps(cr + 8, c##i##1); }
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

static void ukernel(long kc, const float *restrict a, const float *restrict b, float *restrict c, long ldc,
                    float alpha, float beta, const float *restrict bias) {
  ROWS(DECL)
  /* the C tile's rows are ldc apart (other pages, no hardware prefetch): fetched now, they arrive during the k loop
   * instead of stalling the stores (one core, 1024^3 and 512x768x768: 1.08-1.20x on Zen 2, bench/addon-ab.ts, both
   * build orders; two cores: no change) */
  for (int i = 0; i < MR; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
  for (long k = 0; k < kc; k++) {
    __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
    ROWS(FMA)
    a += MR; b += NR;
  }
  __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  __m256 bias0 = _mm256_setzero_ps(), bias1 = bias0;
  if (bias) { bias0 = _mm256_loadu_ps(bias); bias1 = _mm256_loadu_ps(bias + 8); }
  ROWS(STORE)
}

#else
#define MR 4
#define NR 8
#ifndef MC
#define MC 128
#endif
#ifndef KC
#define KC 256
#endif
#ifndef NC
#define NC 2048
#endif

static void ukernel(long kc, const float *restrict a, const float *restrict b, float *restrict c, long ldc,
                    float alpha, float beta, const float *restrict bias) {
  float acc[MR][NR];
  memset(acc, 0, sizeof acc);
  for (long k = 0; k < kc; k++) {
    for (int i = 0; i < MR; i++)
      for (int j = 0; j < NR; j++) acc[i][j] += a[i] * b[j];
    a += MR; b += NR;
  }
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) {
      float v = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * c[i * ldc + j];
      c[i * ldc + j] = bias ? v + bias[j] : v;
    }
}
#endif

#if defined(__AVX512F__)
/* in-register transpose of 16 rows of 16 floats: r[c] becomes column c */
static inline void tr16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; i++) { t[2*i] = _mm512_unpacklo_ps(r[2*i], r[2*i+1]); t[2*i+1] = _mm512_unpackhi_ps(r[2*i], r[2*i+1]); }
  for (int i = 0; i < 4; i++) {
    r[4*i]   = _mm512_shuffle_ps(t[4*i],   t[4*i+2], _MM_SHUFFLE(1,0,1,0));
    r[4*i+1] = _mm512_shuffle_ps(t[4*i],   t[4*i+2], _MM_SHUFFLE(3,2,3,2));
    r[4*i+2] = _mm512_shuffle_ps(t[4*i+1], t[4*i+3], _MM_SHUFFLE(1,0,1,0));
    r[4*i+3] = _mm512_shuffle_ps(t[4*i+1], t[4*i+3], _MM_SHUFFLE(3,2,3,2));
  }
  for (int i = 0; i < 4; i++) {
    t[i]    = _mm512_shuffle_f32x4(r[i], r[4+i], 0x88);
    t[4+i]  = _mm512_shuffle_f32x4(r[i], r[4+i], 0xdd);
    t[8+i]  = _mm512_shuffle_f32x4(r[8+i], r[12+i], 0x88);
    t[12+i] = _mm512_shuffle_f32x4(r[8+i], r[12+i], 0xdd);
  }
  for (int i = 0; i < 4; i++) {
    r[i]    = _mm512_shuffle_f32x4(t[i], t[8+i], 0x88);
    r[8+i]  = _mm512_shuffle_f32x4(t[i], t[8+i], 0xdd);
    r[4+i]  = _mm512_shuffle_f32x4(t[4+i], t[12+i], 0x88);
    r[12+i] = _mm512_shuffle_f32x4(t[4+i], t[12+i], 0xdd);
  }
}
#endif

/* out: slivers of MR rows, each (kc, MR), zero-padded. op(A)[i, k] = a[i * rsa + k * csa]. */
static void pack_a(const float *restrict a, long rsa, long csa, long mc, long kc, float *restrict out) {
#if defined(__AVX512F__)
  if (rsa == 1 && csa != 1) { /* op(A) = A^T (weight gradients x^T dY): source row k holds all mc values contiguously.
    * Wide blocks walk k outermost, copying each row's MR-wide pieces to every sliver (one masked copy each) with the
    * row 16 ahead prefetched: the source is usually cold (activations saved from the forward), and sliver by sliver
    * it was read as 14-float scraps strided by the row length (x^T dY for the 512-wide MLP activations: 527 -> 417 us
    * with cold operands). Narrow blocks (a few slivers per task) go sliver by sliver, which measured no worse. */
    if (mc < 4 * MR) {
      for (long i0 = 0; i0 < mc; i0 += MR) {
        long mr = mc - i0 < MR ? mc - i0 : MR;
        const __mmask16 keep = (__mmask16)((1u << mr) - 1u);
        for (long k = 0; k < kc; k++)
          _mm512_mask_storeu_ps(out + i0 * kc + k * MR, (__mmask16)0x3fff, _mm512_maskz_loadu_ps(keep, a + k * csa + i0));
      }
      return;
    }
    for (long k = 0; k < kc; k++) {
      const float *src = a + k * csa;
      if (k + 16 < kc) for (long i = 0; i < mc; i += 16) _mm_prefetch((const char *)(src + 16 * csa + i), _MM_HINT_T0);
      for (long i0 = 0; i0 < mc; i0 += MR) {
        long mr = mc - i0 < MR ? mc - i0 : MR;
        _mm512_mask_storeu_ps(out + i0 * kc + k * MR, (__mmask16)0x3fff,
                              _mm512_maskz_loadu_ps((__mmask16)((1u << mr) - 1u), src + i0));
      }
    }
    return;
  }
#elif defined(__AVX2__)
  if (rsa == 1 && csa != 1 && mc >= 4 * MR) { /* op(A) = A^T, as AVX-512's wide blocks above: k outermost, each source
    * row's MR-wide pieces copied to every sliver (4 + 2 floats, no read past a row), the row 16 ahead prefetched; the
    * last sliver, MR rows or fewer, zero-padded. Sliver by sliver, the source was read as 6-float scraps strided by
    * the row length, its lines fetched again for every sliver. */
    _Static_assert(MR == 6, "the copies below move 4 + 2 floats");
    long full = mc / MR * MR;
    for (long k = 0; k < kc; k++) {
      const float *src = a + k * csa;
      if (k + 16 < kc) for (long i = 0; i < mc; i += 16) _mm_prefetch((const char *)(src + 16 * csa + i), _MM_HINT_T0);
      for (long i0 = 0; i0 < full; i0 += MR) {
        float *o = out + i0 * kc + k * MR;
        _mm_storeu_ps(o, _mm_loadu_ps(src + i0));
        _mm_storel_pi((__m64 *)(o + 4), _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(src + i0 + 4)));
      }
      if (full < mc) {
        float *o = out + full * kc + k * MR;
        for (long r = 0; r < MR; r++) o[r] = full + r < mc ? src[full + r] : 0.0f;
      }
    }
    return;
  }
#endif
  for (long i0 = 0; i0 < mc; i0 += MR) {
    long mr = mc - i0 < MR ? mc - i0 : MR;
    float *o = out + i0 * kc;
#if defined(__AVX512F__)
    if (csa == 1 && mr == MR) { /* 16 k at a time: 14 row loads, a 16x16 transpose, 16 masked stores of 14 */
      long k = 0;
      for (; k + 16 <= kc; k += 16) {
        __m512 r[16];
        for (int q = 0; q < MR; q++) r[q] = _mm512_loadu_ps(a + (i0 + q) * rsa + k);
        r[14] = r[15] = _mm512_setzero_ps();
        tr16(r);
        for (int c = 0; c < 16; c++) _mm512_mask_storeu_ps(o + (k + c) * MR, (__mmask16)0x3fff, r[c]);
      }
      for (; k < kc; k++)
        for (int q = 0; q < MR; q++) o[k * MR + q] = a[(i0 + q) * rsa + k];
      continue;
    }
#endif
    if (csa == 1) { /* row by row: each source row is read contiguously (rows 4 KiB apart alias in L1) */
      for (long r = 0; r < MR; r++) {
        const float *src = a + (i0 + r) * rsa;
        if (r < mr) for (long k = 0; k < kc; k++) o[k * MR + r] = src[k];
        else for (long k = 0; k < kc; k++) o[k * MR + r] = 0.0f;
      }
    } else {
      for (long k = 0; k < kc; k++) {
        const float *src = a + k * csa + i0 * rsa;
        for (int r = 0; r < MR; r++) o[k * MR + r] = r < mr ? src[r * rsa] : 0.0f;
      }
    }
  }
}

/* out: slivers of NR columns, each (kc, NR), zero-padded. op(B)[k, j] = b[k * rsb + j * csb]. */
static void pack_b(const float *restrict b, long rsb, long csb, long kc, long nc, float *restrict out) {
  for (long j0 = 0; j0 < nc; j0 += NR) {
    long nr = nc - j0 < NR ? nc - j0 : NR;
    float *o = out + j0 * kc;
    if (csb == 1) {
      for (long k = 0; k < kc; k++) {
        const float *src = b + k * rsb + j0;
        if (nr == NR) memcpy(o + k * NR, src, NR * sizeof(float));
        else for (int j = 0; j < NR; j++) o[k * NR + j] = j < nr ? src[j] : 0.0f;
      }
    } else if (rsb == 1) { /* op(B) = B^T: column by column, each source row of B read contiguously */
#if defined(__AVX512F__)
      if (nr == NR) { /* 16 rows of B x 16 k at a time through an in-register transpose (dY W^T, q k^T) */
        long k = 0;
        for (; k + 16 <= kc; k += 16)
          for (int h = 0; h < NR / 16; h++) {
            __m512 r[16];
            for (int q = 0; q < 16; q++) r[q] = _mm512_loadu_ps(b + (j0 + h * 16 + q) * csb + k);
            tr16(r);
            for (int c = 0; c < 16; c++) _mm512_storeu_ps(o + (k + c) * NR + h * 16, r[c]);
          }
        for (; k < kc; k++)
          for (int j = 0; j < NR; j++) o[k * NR + j] = b[(j0 + j) * csb + k];
        continue;
      }
#endif
      for (long j = 0; j < NR; j++) {
        const float *src = b + (j0 + j) * csb;
        if (j < nr) for (long k = 0; k < kc; k++) o[k * NR + j] = src[k];
        else for (long k = 0; k < kc; k++) o[k * NR + j] = 0.0f;
      }
    } else {
      for (long k = 0; k < kc; k++)
        for (int j = 0; j < NR; j++) o[k * NR + j] = j < nr ? b[k * rsb + (j0 + j) * csb] : 0.0f;
    }
  }
}

/* Cache blocking in force: the compiled defaults until rlaif_set_blocking (a measured per-machine choice) changes them,
 * together with the table's mc/kc/nc that size the drivers' scratch, before any GEMM of the process runs. */
static long mc_now = MC, kc_now = KC, nc_now = NC;

static void set_blocking(long mc, long kc, long nc) { mc_now = mc; kc_now = kc; nc_now = nc; }

/* C (mc, nc) = alpha * op(A) (mc, kc) @ packed B (kc, nc) + beta * C (+ bias (nc) on every row, when not NULL: the
 * last k panel's, added in registers as the tiles are stored); packs A in mc_now blocks into packA. */
static void macro(const float *a, long rsa, long csa, long M, long kc, const float *packB, long nc, float *cbase,
                  long ldc, float alpha, float beta, float *packA, const float *bias) {
  float tile[MR * NR] __attribute__((aligned(64)));
  for (long ic = 0; ic < M; ic += mc_now) {
    long mc = M - ic < mc_now ? M - ic : mc_now;
    pack_a(a + ic * rsa, rsa, csa, mc, kc, packA);
    for (long jr = 0; jr < nc; jr += NR) {
      long nr = nc - jr < NR ? nc - jr : NR;
      for (long ir = 0; ir < mc; ir += MR) {
        long mr = mc - ir < MR ? mc - ir : MR;
        float *c = cbase + (ic + ir) * ldc + jr;
        if (mr == MR && nr == NR) {
          ukernel(kc, packA + ir * kc, packB + jr * kc, c, ldc, alpha, beta, bias ? bias + jr : NULL);
        } else {
          ukernel(kc, packA + ir * kc, packB + jr * kc, tile, NR, 1.0f, 0.0f, NULL);
          for (long i = 0; i < mr; i++)
            for (long j = 0; j < nr; j++) {
              float v = alpha * tile[i * NR + j];
              v = beta == 0.0f ? v : v + beta * c[i * ldc + j];
              c[i * ldc + j] = bias ? v + bias[jr + j] : v;
            }
        }
      }
    }
  }
}

/* sums (nc) += the column sums of a packed panel of op(B) (slivers (kc, NR), zero-padded), each over k in order */
static void sum_packed_b(const float *restrict packed, long kc, long nc, float *restrict sums) {
  for (long j0 = 0; j0 < nc; j0 += NR) {
    long nr = nc - j0 < NR ? nc - j0 : NR;
    float acc[NR] = { 0 };
    const float *o = packed + j0 * kc;
    for (long k = 0; k < kc; k++)
      for (int j = 0; j < NR; j++) acc[j] += o[k * NR + j];
    for (long j = 0; j < nr; j++) sums[j0 + j] += acc[j];
  }
}

static void gemm_serial(const GemmBlock *g, float *packA, float *packB) {
  for (long jc = 0; jc < g->N; jc += nc_now) {
    long nc = g->N - jc < nc_now ? g->N - jc : nc_now;
    for (long pc = 0; pc < g->K; pc += kc_now) {
      long kc = g->K - pc < kc_now ? g->K - pc : kc_now;
      pack_b(g->b + pc * g->rsb + jc * g->csb, g->rsb, g->csb, kc, nc, packB);
      if (g->sums) sum_packed_b(packB, kc, nc, g->sums + jc);
      macro(g->a + pc * g->csa, g->rsa, g->csa, g->M, kc, packB, nc, g->c + jc, g->ldc, g->alpha,
            pc == 0 ? g->beta : 1.0f, packA, g->bias && pc + kc >= g->K ? g->bias + jc : NULL);
    }
  }
}

KernelTable LEVEL_TABLE = {
  .name = LEVEL_NAME, .mr = MR, .nr = NR, .mc = MC, .kc = KC, .nc = NC, .gemm_level = LEVEL_NAME, .set_blocking = set_blocking, .gemm = gemm_serial, .pack_b = pack_b, .sum_packed_b = sum_packed_b, .macro = macro,
  .bf16_kernel = "widen", LEVEL_OPS_INIT
};
