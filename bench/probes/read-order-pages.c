/* How fast one thread reads 12 weight matrices of 768 x 3072 floats (113 MB, past the L3) in two orders, with 4 KiB
 * pages and with transparent huge pages (MADV_HUGEPAGE): "strips", the few-row GEMM tiles' order (32 columns at a time
 * down every row, a stride of 12 KiB, 16 rows prefetched ahead), and "rows", memory order. Prints µs a matrix and
 * GB/s, two passes of each (the second printed). Build and run:
 * gcc -O2 -mavx512f bench/probes/read-order-pages.c -o /tmp/read-order && /tmp/read-order */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define K 768
#define N 3072
#define MATS 12

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *matrix(size_t bytes, int huge) {
  void *p = NULL;
  if (posix_memalign(&p, 2 << 20, bytes)) { fprintf(stderr, "read-order-pages: out of memory\n"); exit(1); }
  madvise(p, bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE); /* before the first touch: it decides the page size */
  float *f = p;
  for (size_t i = 0; i < bytes / 4; i++) f[i] = (float)(i % 13);
  return f;
}

__attribute__((noinline)) static __m512 strips(const float *b) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  for (long n = 0; n < N; n += 32)
    for (long k = 0; k < K; k++) {
      __builtin_prefetch(b + (k + 16) * N + n, 0, 3);
      __builtin_prefetch(b + (k + 16) * N + n + 16, 0, 3);
      acc0 = _mm512_add_ps(acc0, _mm512_loadu_ps(b + k * N + n));
      acc1 = _mm512_add_ps(acc1, _mm512_loadu_ps(b + k * N + n + 16));
    }
  return _mm512_add_ps(acc0, acc1);
}

__attribute__((noinline)) static __m512 rows(const float *b) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  for (long i = 0; i < (long)K * N; i += 32) {
    acc0 = _mm512_add_ps(acc0, _mm512_loadu_ps(b + i));
    acc1 = _mm512_add_ps(acc1, _mm512_loadu_ps(b + i + 16));
  }
  return _mm512_add_ps(acc0, acc1);
}

int main(void) {
  float sink = 0.0f;
  for (int huge = 0; huge <= 1; huge++) {
    float *m[MATS];
    for (int i = 0; i < MATS; i++) m[i] = matrix((size_t)K * N * 4, huge);
    for (int pass = 0; pass < 2; pass++)
      for (int order = 0; order < 2; order++) {
        double t0 = now();
        for (int r = 0; r < 4; r++)
          for (int i = 0; i < MATS; i++) sink += _mm512_reduce_add_ps(order ? rows(m[i]) : strips(m[i]));
        double t = (now() - t0) / (4 * MATS);
        if (pass) printf("%s pages, %s: %.0f us a matrix, %.1f GB/s\n", huge ? "2 MiB" : "4 KiB", order ? "rows" : "strips", t * 1e6, K * N * 4.0 / t / 1e9);
      }
    for (int i = 0; i < MATS; i++) free(m[i]);
  }
  return sink == 1.2345f; /* never: keeps the sums */
}
