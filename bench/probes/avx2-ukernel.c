/* The AVX2 GEMM micro-kernel (6 x 16, native/level_gemm.c's, copied so it runs alone) on packed slivers: one B sliver
 * (kc x 16) against `slivers` A slivers (kc x 6) in turn, as the macro-kernel walks a block; the C tile at ldc 1024
 * (rows 4 KiB apart, as in a 1024-wide product), `bslivers` B slivers cycled. -DPREF prefetches the C tile first.
 * Prints GFLOP/s. Build and run: gcc -O3 -mavx2 -mfma [-DPREF] bench/probes/avx2-ukernel.c -o /tmp/uk && /tmp/uk KC SLIVERS [BSLIVERS] */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define MR 6
#define NR 16
#define DECL(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = _mm256_setzero_ps();
#define FMA(i) { __m256 ai = _mm256_broadcast_ss(a + i); \
    c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0); c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1); }
#define STORE(i) { float *cr = c + (i) * ldc; \
      _mm256_storeu_ps(cr, _mm256_fmadd_ps(va, c##i##0, _mm256_loadu_ps(cr))); \
      _mm256_storeu_ps(cr + 8, _mm256_fmadd_ps(va, c##i##1, _mm256_loadu_ps(cr + 8))); }
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
__attribute__((noinline)) static void ukernel(long kc, const float *restrict a, const float *restrict b, float *restrict c, long ldc, float alpha) {
  ROWS(DECL)
#ifdef PREF
  for (int i = 0; i < MR; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
#endif
  for (long k = 0; k < kc; k++) {
    __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
    ROWS(FMA)
    a += MR; b += NR;
  }
  __m256 va = _mm256_set1_ps(alpha);
  ROWS(STORE)
}
int main(int argc, char **argv) {
  long kc = atol(argv[1]), nA = atol(argv[2]), nB = argc > 3 ? atol(argv[3]) : 1; /* nA slivers of A cycled (L1 / L2 residency) */
  float *a = aligned_alloc(64, 4 * MR * kc * nA), *b = aligned_alloc(64, 4L * NR * kc * nB), *c = aligned_alloc(64, 4L * MR * 1024 * nA);
  for (long i = 0; i < MR * kc * nA; i++) a[i] = 1e-3f * (i % 7);
  for (long i = 0; i < NR * kc * nB; i++) b[i] = 1e-3f * (i % 5);
  for (long i = 0; i < MR * 1024L * nA; i++) c[i] = 0;
  long reps = 400000000L / (kc * nA);
  struct timespec t0, t1; clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long r = 0; r < reps; r++) for (long s = 0; s < nA; s++) ukernel(kc, a + s * MR * kc, b + (r % nB) * NR * kc, c + s * MR * 1024 + (r % 64) * 16, 1024, 1.0f);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double sec = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
  printf("kc %ld slivers %ld: %.1f GFLOP/s (%f)\n", kc, nA, 2.0 * MR * NR * kc * nA * reps / sec / 1e9, c[5]);
}
