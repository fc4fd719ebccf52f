/* Shared declarations of the rlaif native kernels: the per-CPU-level kernel table, the thread pool, the GEMM driver.
 * Kernels here trust their arguments: binding.c validates every type and length before any of them runs.
 * Leaves out: anything N-API (binding.c) and CPU detection (dispatch.c). */
#ifndef RLAIF_COMMON_H
#define RLAIF_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* One block of a GEMM: C (M, N) = alpha * op(A) (M, K) @ op(B) (K, N) + beta * C, any strides.
 * op(A)[i, k] = a[i * rsa + k * csa], op(B)[k, j] = b[k * rsb + j * csb], C[i, j] = c[i * ldc + j]. */
typedef struct {
  const float *a; long rsa, csa;
  const float *b; long rsb, csb;
  float *c; long ldc;
  long M, N, K;
  float alpha, beta;
  const float *bias; /* (N) or NULL: added to every row of C after alpha and beta (only with alpha 1, beta 0) */
  float *sums;       /* (N) or NULL: op(B)'s column sums added in, over k in kc panels */
} GemmBlock;

typedef struct {
  long B, H, Hkv, T, S, D;
  int causal;
  float scale;
  const float *keyMask; /* (B, L) or NULL */
  long L;               /* positions per (b, head) row of k and v and per b of keyMask, >= S: the first S of a KV
                         * cache's rows read in place (forward only; the backward needs L == S) */
  long W, q0, k0, v0;   /* W = 0: q, k, v head-major, (B, H, T, D) and (B, Hkv, L, D), out (B, H, T, D). W > 0:
                         * token-major, the rows of one fused projection read in place: q (B, T, W) with head h at
                         * columns q0 + h D, k and v (B, S, W) with key/value head g at k0 + g D and v0 + g D (L == S),
                         * out (B, T, H D). dq, dk, dv are laid out as q, k, v, and dout as out. */
} AttnShape;

/* Where (b, h)'s query rows, (b, g)'s key (col = k0) or value (col = v0) rows and (b, h)'s output rows start, and the
 * floats from one row to the next: the head-major layout, or the token-major one of AttnShape's W. */
static inline long attn_ld(const AttnShape *s) { return s->W ? s->W : s->D; }
static inline long attn_ld_out(const AttnShape *s) { return s->W ? s->H * s->D : s->D; }
static inline long attn_q_at(const AttnShape *s, long b, long h) {
  return s->W ? b * s->T * s->W + s->q0 + h * s->D : (b * s->H + h) * s->T * s->D;
}
static inline long attn_kv_at(const AttnShape *s, long b, long g, long col) {
  return s->W ? b * s->L * s->W + col + g * s->D : (b * s->Hkv + g) * s->L * s->D;
}
static inline long attn_out_at(const AttnShape *s, long b, long h) {
  return s->W ? b * s->T * s->H * s->D + h * s->D : (b * s->H + h) * s->T * s->D;
}

/* Everything compiled once per CPU level (level.c with different -m flags). Row kernels take [r0, r1). */
typedef struct {
  const char *name;
  int mr, nr, mc, kc, nc; /* GEMM blocking of this level (mc, kc, nc: rlaif_set_blocking may change them) */
  const char *gemm_level;  /* whose register micro-kernel (and packing) the GEMM runs: this level's, or a lower level's
                            * (rlaif_set_gemm_kernel), together with mr, nr and the four GEMM functions below */
  void (*set_blocking)(long mc, long kc, long nc);
  void (*gemm)(const GemmBlock *g, float *packA, float *packB);
  /* the two halves of gemm, for threads sharing one packed B: slivers (kc, NR) of op(B) (kc, nc), zero-padded */
  void (*pack_b)(const float *b, long rsb, long csb, long kc, long nc, float *out);
  /* sums (nc) += the column sums of such a packed panel, over its kc rows in order */
  void (*sum_packed_b)(const float *packed, long kc, long nc, float *sums);
  /* C (M, nc) = alpha op(A) (M, kc) @ packed B + beta C, packing A (MC blocks) into packA */
  void (*macro)(const float *a, long rsa, long csa, long M, long kc, const float *packB, long nc, float *c, long ldc,
                float alpha, float beta, float *packA, const float *bias);

  /* small-M products (decode): columns [n0, n1) of C (M, N) = alpha A (M, K) op(B) + beta C, streaming B once;
   * gemv_nn: B is (K, N); gemv_nt: B is (N, K) (a transposed weight such as a tied LM head) */
  void (*gemv_nn)(const float *a, const float *b, float *c, long M, long N, long K, long n0, long n1, float alpha,
                  float beta);
  void (*gemv_nt)(const float *a, const float *b, float *c, long M, long N, long K, long n0, long n1, float alpha,
                  float beta);
  /* gemv_nt for 5-16 rows: A's rows across a vector, B's rows broadcast and read in place (the packed GEMM's bits) */
  void (*gemv_nt_tiles)(const float *a, const float *b, float *c, long M, long N, long K, long n0, long n1, float alpha,
                        float beta);
  /* c (M, N) = A[:, k0:k1] B[k0:k1, :], B (K, N) streamed row by row (A row stride lda); c overwritten */
  void (*gemv_nn_rows)(const float *a, long lda, const float *b, long N, float *c, long M, long k0, long k1);
  /* bf16 weights (generation): columns [n0, n1) of C (M, N) = A (M, K) W^T, W (N, K) bfloat16 bits, A already rounded
   * to bf16 and given both ways (af: widened to float32, ab: bf16 bits); products summed in float32, C overwritten */
  void (*gemv_bf16)(const float *af, const uint16_t *ab, const uint16_t *w, float *c, long M, long N, long K, long n0,
                    long n1);
  void (*bf16_widen)(const uint16_t *src, float *dst, long n); /* exact: bf16 is the top half of a float32 */
  void (*bf16_round)(const float *src, uint16_t *dst, long n);  /* to nearest even; NaN stays NaN (quiet) */
  const char *bf16_kernel; /* which gemv_bf16: "vdpbf16ps" (AVX512_BF16) or "widen" (bf16 -> fp32, then FMA) */
  int dpbf16;              /* 1: the bf16 GEMM past a few rows runs on vdpbf16ps too (level_bf16.c), else widen + GEMM */

  void (*bias_add)(float *x, const float *bias, long r0, long r1, long cols);
  void (*sum_cols)(const float *x, double *acc, long rows, long c0, long c1, long cols);
  void (*add)(const float *a, const float *b, float *out, long n);
  void (*axpy)(float alpha, const float *x, float *y, long n);
  void (*gelu)(const float *x, float *y, long n);
  void (*gelu_bwd)(const float *x, const float *dy, float *dx, long n, int accumulate); /* else dx = ..., unread */
  void (*silu)(const float *x, float *y, long n);
  void (*silu_bwd)(const float *x, const float *dy, float *dx, long n, int accumulate);

  void (*layer_norm)(const float *x, const float *w, const float *b, float *y, float *mean, float *rstd,
                     long r0, long r1, long cols, float eps);
  void (*layer_norm_bwd)(const float *dy, const float *x, const float *w, const float *mean, const float *rstd,
                         float *dx, float *dw, float *db, long r0, long r1, long cols);
  void (*rms_norm)(const float *x, const float *w, float *y, float *rstd, long r0, long r1, long cols, float eps);
  void (*rms_norm_bwd)(const float *dy, const float *x, const float *w, const float *rstd, float *dx, float *dw,
                       long r0, long r1, long cols);

  void (*softmax)(const float *x, float *y, long r0, long r1, long cols);
  void (*softmax_bwd)(const float *y, const float *dy, float *dx, long r0, long r1, long cols);
  void (*log_softmax)(const float *x, float *y, long r0, long r1, long cols);
  void (*log_softmax_bwd)(const float *y, const float *dy, float *dx, long r0, long r1, long cols);
  void (*target_logprobs)(const float *logits, const int32_t *t, float *out, float *lse, long r0, long r1, long V,
                          int32_t ignore);
  void (*target_logprobs_bwd)(const float *logits, const int32_t *t, const float *lse, const float *g, float *dl,
                              long r0, long r1, long V, int32_t ignore);
  void (*entropy)(const float *logits, float *out, float *lse, long r0, long r1, long V);
  void (*entropy_bwd)(const float *logits, const float *lse, const float *h, const float *g, float *dl,
                      long r0, long r1, long V);

  /* attention over heads h .. h + nh - 1 of batch row b; attention_bwd over one (b, kv head) group. scratch:
   * attn_scratch floats. */
  void (*attention)(const float *q, const float *k, const float *v, float *out, float *probs, const AttnShape *s,
                    long b, long h, long nh, float *scratch);
  void (*attention_bwd)(const float *q, const float *k, const float *v, const float *probs, const float *dout,
                        float *dq, float *dk, float *dv, const AttnShape *s, long b, long kvh, float *scratch);

  void (*adamw)(float *p, const float *g, float *m, float *v, long n, float lr, float b1, float b2, float eps,
                float wd, float bc1, float bc2, float gscale);
  double (*sum_squares)(const float *x, long n);
} KernelTable;

/* scratch floats one attention task needs: (D + T, Sp), S rounded up to 32, for the register-tiled path, which also
 * covers the (T, S) the GEMM path needs */
static inline long attn_scratch(const AttnShape *s) { return (s->D + s->T) * ((s->S + 31) / 32 * 32) + 64; }

extern KernelTable rlaif_table_avx512, rlaif_table_avx2, rlaif_table_generic;

/* level_bf16.c (AVX512_BF16 only): gemv_bf16 with vdpbf16ps */
void rlaif_gemv_bf16_dpbf16(const float *af, const uint16_t *ab, const uint16_t *w, float *c, long M, long N, long K,
                            long n0, long n1);
/* ... and the bf16 GEMM for many rows: A rounded and packed once by rlaif_mixed_pack_a (below; slivers of
 * rlaif_bf16_sliver_rows() rows, rlaif_bf16_pack_a_words(M, K) words), then column blocks of C each packing their W
 * (rlaif_bf16_pack_w_words) */
long rlaif_bf16_sliver_rows(void);
long rlaif_bf16_pack_a_words(long M, long K);
long rlaif_bf16_pack_w_words(long ncols);
void rlaif_bf16_gemm_columns(const uint32_t *packA, const uint16_t *w, float *c, long M, long N, long K, long n0,
                             long n1, uint32_t *packW);

/* ... and mixed-precision training's GEMM: fp32 operands of any strides rounded to bf16 while packed (all of K, slivers
 * [s0, s1) of A, [t0, t1) of B of 32 columns), then tiles of C: C (+)= packed A packed B over A slivers [s0, s1) and
 * B slivers [t0, t1) (packed A: per k block of rlaif_mixed_block_k(), per sliver, pairs x rows words; rlaif_bf16_pack_a_words(M, K) in all) */
long rlaif_mixed_pack_b_words(long N, long K);
long rlaif_mixed_block_k(void); /* k per packed block (the packers' and rlaif_mixed_compute's unit) */
void rlaif_mixed_pack_a(const float *a, long rsa, long csa, long M, long K, long s0, long s1, uint32_t *out);
/* sums (may be NULL): += the float32 column sums over k of the slivers' columns of op(B) (a bias gradient, fused) */
void rlaif_mixed_pack_b(const float *b, long rsb, long csb, long N, long K, long t0, long t1, uint32_t *out,
                        float *sums);
void rlaif_mixed_compute(const uint32_t *packA, const uint32_t *packB, float *c, long ldc, long M, long N, long K,
                         long s0, long s1, long t0, long t1, int accumulate, const float *bias);

/* AMX (level_amx.c, compiled with -mamx-tile -mamx-bf16): the bf16 GEMMs' tiles where the CPU has AMX-BF16 and the
 * OS grants the tile state. rlaif_amx_mode (level_bf16.c; set once by dispatch.c): 0 vdpbf16ps, 1 AMX, 2 the AMX
 * layout with the tiles computed in C (RLAIF_AMX=emulate, for tests on CPUs without AMX). */
extern int rlaif_amx_mode;
int rlaif_amx_request(void);
void rlaif_amx_tiles(const uint32_t *a, const uint32_t *b, long ppad, int two, float *t);

/* dispatch.c */
extern const char *const RLAIF_LEVELS[3];            /* the CPU levels, best first: avx512, avx2, generic */
int rlaif_level_index(const char *level);           /* its place in RLAIF_LEVELS (0 the best), -1 for an unknown name */
int rlaif_cpu_supports(const char *level);          /* 1 when this CPU runs the level */
const KernelTable *rlaif_table(const char *level);  /* NULL for an unknown name */
/* the level's table, with gemv_bf16 on vdpbf16ps when native_bf16 and the CPU has AVX512_BF16 (avx512 level only) */
const KernelTable *rlaif_table_bf16(const char *level, int native_bf16);
const char *rlaif_best_level(void);
/* Sets a level's cache blocking (mc rows of A, kc depth, nc columns of B; checked by the binding) for the whole
 * process: only before that level's first GEMM, as the kernels read it without synchronisation. */
void rlaif_set_blocking(const char *level, long mc, long kc, long nc);
/* Runs a level's GEMM on the register micro-kernel and packing of level `from` (the same or a lower level this CPU
 * runs), at `from`'s compiled blocking: a measured per-machine choice. Products keep their bits for the same kc (each
 * element sums over k in the same order whatever the tile), so the level's few-row paths still match its GEMM. Only
 * before that level's first GEMM, as rlaif_set_blocking. 0 when `from` may not be used. */
int rlaif_set_gemm_kernel(const char *level, const char *from);
int rlaif_cpu_feature_count(void);         /* features reported by machine(): avx2, fma, avx512f, ..., avx512bf16 */
const char *rlaif_cpu_feature_name(int i);
int rlaif_cpu_feature(int i);              /* 1 when this CPU (and OS) supports feature i */

/* pool.c: a persistent pthread pool; the calling thread runs tasks too (as tid 0). */
typedef void (*TaskFn)(void *ctx, long task);
int rlaif_threads(void);
void rlaif_pool_run(long ntasks, TaskFn fn, void *ctx);
/* Splits [0, n) into chunks of at least grain and runs them on the pool when work (~ ns) is large enough. */
typedef void (*RangeFn)(void *ctx, long i0, long i1);
void rlaif_parallel_for(long n, long grain, double work, RangeFn fn, void *ctx);
/* 64-byte aligned thread-local scratch of at least n floats (slot 0..6), kept between calls: 0, 1 GEMM packing,
 * 2 attention / a bf16 weight block widened to float32, 3 shared packed B, 4, 5 the bf16 GEMM's rounded A, 6 the
 * GEMM's partial column sums of op(B). */
#define RLAIF_SCRATCH_SLOTS 7
float *rlaif_scratch(int slot, size_t n);

/* gemm.c */
/* multiply-adds from which a product goes to the pool: general, for few rows, and for 1-4 rows over a B streamed once
 * (> 0 sets; the whole process, only while no kernel runs: the kernels read them without synchronisation) */
void rlaif_set_pool_thresholds(long general, long few_rows, long stream);
long rlaif_pool_threshold(int which); /* 0 general, 1 few rows, 2 streamed few-row products */
/* compute tasks per thread of a GEMM all threads share (> 0; the whole process, like the thresholds above) */
void rlaif_set_gemm_split(long tasks_per_thread);
long rlaif_gemm_split(void);
void rlaif_gemm(const KernelTable *t, const float *a, const float *b, float *c, long M, long N, long K, int transA,
                int transB, float alpha, float beta, long batch, long sa, long sb, long sc);
/* rlaif_gemm, and sumsB (N, may be NULL) += op(B)'s column sums over every batch item (float32, in kc panels, never
 * scaled by alpha: a projection's bias gradient, summed from the packed panels), biasC (N, may be NULL) added to every
 * row of every item's C after alpha and beta (in the tiles' registers when alpha is 1 and beta 0, else afterwards) */
void rlaif_gemm_fused(const KernelTable *t, const float *a, const float *b, float *c, long M, long N, long K,
                      int transA, int transB, float alpha, float beta, long batch, long sa, long sb, long sc,
                      float *sumsB, const float *biasC);

/* C (M, N) = bf16(A) (M, K) W^T, W (N, K) bfloat16 bits: A rounded to bf16 (nearest even), products summed in float32.
 * Few rows of A: bf16 dot products (gemv_bf16); more: blocks of W widened to float32 and the level's GEMM. */
void rlaif_gemm_bf16(const KernelTable *t, const float *a, const uint16_t *w, float *c, long M, long N, long K);

/* C = alpha bf16(op(A)) bf16(op(B)) + beta C per batch item, as rlaif_gemm's arguments: operands rounded to bf16
 * (nearest even), exact products summed in float32 (mixed-precision training). vdpbf16ps where the table has it
 * (dpbf16), else rounded float32 copies and the level's GEMM. sumsB (N, may be NULL) += the column sums of every
 * item's op(B) in float32, unrounded and unscaled (the bias gradient of a projection whose weight gradient this is,
 * read while B is packed); biasC (N, may be NULL) is added to every row of every item's C after alpha and beta
 * (a projection's bias, added as the tiles are stored). Returns -1 when out of memory, else 0. */
int rlaif_gemm_mixed(const KernelTable *t, const float *a, const float *b, float *c, long M, long N, long K,
                     int transA, int transB, float alpha, float beta, long batch, long sa, long sb, long sc,
                     float *sumsB, const float *biasC);

/* finite.c (compiled without fast-math) */
long rlaif_first_non_finite(const float *x, long n);

#endif
