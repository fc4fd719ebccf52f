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
