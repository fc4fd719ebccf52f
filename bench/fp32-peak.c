// fp32 peak of this CPU: independent fused multiply-adds on registers only (no memory traffic), on 1 thread and on
// every core, the ceiling BENCHMARKS.md divides GEMM figures by. Widest vectors the compiler targets (AVX-512,
// else AVX2+FMA, else scalar); 24 accumulators cover the FMA latency × throughput of current x86 cores.
// Leaves out: frequency scaling control (the figure is whatever clock the cores run under this load).
//   cc -O2 -march=native -pthread bench/fp32-peak.c -o /tmp/fp32-peak && /tmp/fp32-peak
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define ISA "AVX-512"
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define SUM(v) _mm512_reduce_add_ps(v)
#elif defined(__AVX2__) && defined(__FMA__)
typedef __m256 vec;
#define LANES 8
#define ISA "AVX2+FMA"
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
static float SUM(__m256 v) { float out[8]; _mm256_storeu_ps(out, v); float s = 0; for (int i = 0; i < 8; i++) s += out[i]; return s; }
#else
typedef float vec;
#define LANES 1
#define ISA "scalar"
#define SET1(x) (x)
#define FMA(a, b, c) ((a) * (b) + (c))
#define SUM(v) (v)
#endif

#define ACCUMULATORS 24
static const long ITERATIONS = 40000000;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *spin(void *out) {
  vec acc[ACCUMULATORS];
  for (int i = 0; i < ACCUMULATORS; i++) acc[i] = SET1(0.001f * (float)i);
  const vec a = SET1(0.999999f), b = SET1(1e-7f);
  for (long n = 0; n < ITERATIONS; n++) {
#pragma GCC unroll 24
    for (int i = 0; i < ACCUMULATORS; i++) acc[i] = FMA(acc[i], a, b);
  }
  float total = 0;
  for (int i = 0; i < ACCUMULATORS; i++) total += SUM(acc[i]);
  *(float *)out = total; // keeps the loop alive
  return NULL;
}

static double gflops(int threads) {
  pthread_t ids[256];
  float sinks[256];
  double start = now();
  for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, spin, &sinks[t]);
  for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
  double seconds = now() - start;
  return 2.0 * LANES * ACCUMULATORS * (double)ITERATIONS * threads / seconds / 1e9;
}

int main(void) {
  int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (cores > 256) cores = 256;
  gflops(1); // warm-up: clocks up
  printf("RESULT fp32_peak_gflops_1thread %.1f\n", gflops(1));
  printf("RESULT fp32_peak_gflops_%dthreads %.1f\n", cores, gflops(cores));
  printf("(%s, %d lanes, %d accumulators)\n", ISA, LANES, ACCUMULATORS);
  return 0;
}
