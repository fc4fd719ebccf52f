// Shared declarations for the wasm SIMD128 kernels (built by scripts/build-wasm.sh, no libc).
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name))) name

// Job layout shared with wasm-runtime.ts (int32 words): GEMM fields, task bookkeeping, then attention fields.
enum { J_A, J_B, J_C, J_M, J_N, J_K, J_TA, J_TB, J_ALPHA, J_BETA, J_BATCH, J_SA, J_SB, J_SC,
       J_MTASK, J_NTASK, J_MTILES, J_NTILES, J_WORD, J_FINISHED, J_SCRATCH, J_SCRATCH_BYTES, J_HELPED, J_KIND,
       J_Q, J_KK, J_V, J_OUT, J_PROBS, J_MASK, J_DQ, J_DK, J_DV, J_AB, J_AH, J_AHKV, J_AT, J_AS, J_AD, J_CAUSAL,
       J_SCALE };

void attention_task(const int32_t *job, int t, float *scratch);
void attention_bwd_task(const int32_t *job, int t, float *scratch);
// C rows [m0, m1) x cols [n0, n1) of alpha op(A) op(B) + beta C, summing k from k0 (op(A) is zero on [0, k0)): the
// k blocks start at k0, so where zeros end does not move the sums' association (a row's left padding).
void gemm_block(const float *a, const float *b, float *c, int M, int N, int K, int ta, int tb, float alpha,
                float beta, int m0, int m1, int n0, int n1, float *scratch, int k0);
int gemm_scratch_floats(int nTask);
// sum_j exp(x_j - mx) over n; when y is not null also writes the exponentials there (y may alias x).
float row_sumexp(const float *x, float *y, float mx, int n);

#define SPLAT wasm_f32x4_splat

// exp(x) per lane (Cephes expf: range reduction by ln 2 and a degree-6 polynomial, ~1 ulp); 0 below -87.3; above
// 88.38 it stays at exp(88.38) (softmax's arguments are never positive; sigmoid in kernels.c gives 0 past it).
static inline v128_t vexp(v128_t x) {
  v128_t under = wasm_f32x4_lt(x, SPLAT(-87.3365f));
  x = wasm_f32x4_max(wasm_f32x4_min(x, SPLAT(88.3762f)), SPLAT(-87.3365f));
  v128_t fx = wasm_f32x4_nearest(wasm_f32x4_mul(x, SPLAT(1.44269504088896341f)));
  x = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, SPLAT(0.693359375f)));
  x = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, SPLAT(-2.12194440e-4f)));
  v128_t p = SPLAT(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x), SPLAT(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x), SPLAT(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x), SPLAT(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x), SPLAT(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x), SPLAT(5.0000001201e-1f));
  p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, wasm_f32x4_mul(x, x)), x), SPLAT(1.f));
  v128_t pow2 = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(fx), wasm_i32x4_splat(127)), 23);
  return wasm_v128_andnot(wasm_f32x4_mul(p, pow2), under);
}

// Up to 3 trailing elements as one vector (missing lanes 0), and back.
static inline v128_t load_tail(const float *p, int r) {
  return wasm_f32x4_make(p[0], r > 1 ? p[1] : 0.f, r > 2 ? p[2] : 0.f, 0.f);
}
static inline void store_tail(float *p, v128_t v, int r) {
  p[0] = wasm_f32x4_extract_lane(v, 0);
  if (r > 1) p[1] = wasm_f32x4_extract_lane(v, 1);
  if (r > 2) p[2] = wasm_f32x4_extract_lane(v, 2);
}
static inline float hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}
