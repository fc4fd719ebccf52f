/* Batched strided GEMM driver on the pool: many batch items -> one serial blocked GEMM per item per task; few
 * large items -> all threads on each, sharing one packed B panel (packed together) and splitting rows/columns of C.
 * Small products run on the calling thread only (no wake-up, no sync). */
#include "common.h"
#include <stdlib.h>
#include <string.h>

/* below this many multiply-adds, one thread (no wake-up, no sync) wins (compiled default; per machine:
 * rlaif_set_pool_thresholds, from the tuning cache's measured search) */
static long mt_min_macs = 1L << 21;
/* ... and below this many for a product of few rows (M <= GEMV_MAX_M, or B small and read in place): a batched decode
 * step of a small model is a chain of ~20 such products of ~10 us each, and on a busy 2-core machine every pool
 * hand-off waits for a descheduled worker (a 16-row step of the embedded policy ran 1.7x slower on two threads than
 * on one). */
static long mt_min_macs_few_rows = 1L << 23;
/* ... and below this many for 1-4 rows of A over a B read once, in memory order (gemv_stream, and the bf16 GEMV): a
 * decode step of a model larger than the caches streams its weights from memory, where a second reader nearly
 * doubles the bandwidth (Zen 5: 768 x 2304 from memory at 22 GB/s on one thread, 35 on two), whatever a product of
 * hot operands gains. Its own threshold: this one was general / 4, and a general threshold measured on hot packed
 * GEMMs (2^23 on that Zen 5) kept a 124M model's QKV and output projections on one thread. */
static long mt_min_macs_stream = 1L << 19;

void rlaif_set_pool_thresholds(long general, long few_rows, long stream) {
  if (general > 0) mt_min_macs = general;
  if (few_rows > 0) mt_min_macs_few_rows = few_rows;
  if (stream > 0) mt_min_macs_stream = stream;
}

long rlaif_pool_threshold(int which) { return which == 2 ? mt_min_macs_stream : which == 1 ? mt_min_macs_few_rows : mt_min_macs; }

/* Compute tasks per thread of a GEMM that all threads share (the split of C's rows and columns): spare tasks absorb
 * a noisy neighbour, fewer pack A fewer times (compiled default; per machine: rlaif_set_gemm_split, measured) */
static long gemm_tasks_per_thread = 4;

void rlaif_set_gemm_split(long tasks_per_thread) { if (tasks_per_thread > 0) gemm_tasks_per_thread = tasks_per_thread; }

long rlaif_gemm_split(void) { return gemm_tasks_per_thread; }

typedef struct {
  const KernelTable *t;
  const float *a, *b;
  float *c;
  long M, N, K, sa, sb, sc;
  int transA, transB;
  float alpha, beta;
  long mchunks, nchunks, mstep, nstep;
  const float *bias; /* fused into the tiles (alpha 1, beta 0 only), or NULL */
  float *sums;       /* op(B)'s column sums, where a path sums them race-free; else NULL (summed afterwards) */
} GemmJob;

/* C[m0:m1, n0:n1] of batch item bi over k in [k0, k1), into c (row stride N; NULL: that block of C itself) with beta,
 * on this thread's serial blocked GEMM and packing buffers; bias (the block's columns) added as the last k panel's
 * tiles are stored, sums (the block's columns) += op(B)'s column sums over [k0, k1); either may be NULL */
static void serial_block(const GemmJob *j, long bi, long m0, long m1, long n0, long n1, long k0, long k1, float *c,
                         float beta, const float *bias, float *sums) {
  const KernelTable *t = j->t;
  GemmBlock g;
  g.rsa = j->transA ? 1 : j->K; g.csa = j->transA ? j->M : 1;
  g.rsb = j->transB ? 1 : j->N; g.csb = j->transB ? j->K : 1;
  g.a = j->a + bi * j->sa + m0 * g.rsa + k0 * g.csa;
  g.b = j->b + bi * j->sb + n0 * g.csb + k0 * g.rsb;
  g.c = c ? c : j->c + bi * j->sc + m0 * j->N + n0;
  g.ldc = j->N;
  g.M = m1 - m0; g.N = n1 - n0; g.K = k1 - k0;
  g.alpha = j->alpha; g.beta = beta;
  g.bias = bias; g.sums = sums;
  long kc = t->kc, mc = t->mc, nc = ((g.N < t->nc ? g.N : t->nc) + t->nr - 1) / t->nr * t->nr;
  float *packA = rlaif_scratch(0, (size_t)(mc + t->mr) * kc);
  float *packB = rlaif_scratch(1, (size_t)nc * kc);
  t->gemm(&g, packA, packB);
}

static void run_block(const GemmJob *j, long bi, long m0, long m1, long n0, long n1) {
  serial_block(j, bi, m0, m1, n0, n1, 0, j->K, NULL, j->beta, j->bias ? j->bias + n0 : NULL, j->sums ? j->sums + n0 : NULL);
}

static void gemm_task(void *ctx, long task) {
  const GemmJob *j = ctx;
  long per = j->mchunks * j->nchunks;
  long bi = task / per, rest = task % per;
  long mi = rest / j->nchunks, ni = rest % j->nchunks;
  long m0 = mi * j->mstep, n0 = ni * j->nstep;
  long m1 = m0 + j->mstep < j->M ? m0 + j->mstep : j->M;
  long n1 = n0 + j->nstep < j->N ? n0 + j->nstep : j->N;
  if (m0 < m1 && n0 < n1) run_block(j, bi, m0, m1, n0, n1);
}

static void add_partials(float *c, const float *partials, long count, long n);
static void column_sums(const float *b, long N, long K, int transB, long batch, long sb, float *sumsB);

/* One large product on all threads. Threads first pack op(B) together into one shared buffer: all of K at once
 * when it fits in FULLK_BYTES (two barriers per product), else one KC panel at a time. Then each task packs its
 * own rows of A and multiplies them by the shared panels. */
#define FULLK_BYTES (8L << 20)
#define SMALL_B_FLOATS (192.0 * 1024) /* ~20-40 us to pack on one thread */

typedef struct {
  const KernelTable *t;
  const GemmBlock *g;
  float *packB;
  long jc, nc, pc0, pcs;            /* column panel; KC panels [pc0, pc0 + pcs) packed side by side */
  long slivers, sliver_tasks, slivers_per_task; /* pack phase */
  long mchunks, nchunks, mstep, nstep;          /* compute phase */
  const float *bias;                            /* (N) added by the last k panel's tiles, or NULL */
  float *sums;                                  /* (pcs, nc): each packed panel's column sums, or NULL */
} SharedJob;

static inline long panel_kc(const SharedJob *j, long p) {
  long pc = (j->pc0 + p) * j->t->kc;
  return j->g->K - pc < j->t->kc ? j->g->K - pc : j->t->kc;
}

/* packed panel p starts at p * KC * ncRounded */
static void shared_pack_task(void *ctx, long task) {
  SharedJob *j = ctx;
  const GemmBlock *g = j->g;
  const KernelTable *t = j->t;
  long p = task / j->sliver_tasks, st = task % j->sliver_tasks;
  long nr = t->nr, n0 = st * j->slivers_per_task * nr;
  long n1 = n0 + j->slivers_per_task * nr < j->nc ? n0 + j->slivers_per_task * nr : j->nc;
  if (n0 >= n1) return;
  long pc = (j->pc0 + p) * t->kc, kc = panel_kc(j, p);
  float *panel = j->packB + p * t->kc * j->slivers * nr;
  t->pack_b(g->b + pc * g->rsb + (j->jc + n0) * g->csb, g->rsb, g->csb, kc, n1 - n0, panel + n0 * kc);
  if (j->sums) {
    float *sums = j->sums + p * j->nc + n0;
    memset(sums, 0, sizeof(float) * (size_t)(n1 - n0));
    t->sum_packed_b(panel + n0 * kc, kc, n1 - n0, sums);
  }
}

static void shared_compute_task(void *ctx, long task) {
  SharedJob *j = ctx;
  const GemmBlock *g = j->g;
  const KernelTable *t = j->t;
  long mi = task / j->nchunks, ni = task % j->nchunks;
  long m0 = mi * j->mstep, n0 = ni * j->nstep;
  long m1 = m0 + j->mstep < g->M ? m0 + j->mstep : g->M, n1 = n0 + j->nstep < j->nc ? n0 + j->nstep : j->nc;
  if (m0 >= m1 || n0 >= n1) return;
  float *packA = rlaif_scratch(0, (size_t)(t->mc + t->mr) * t->kc);
  for (long p = 0; p < j->pcs; p++) {
    long pc = (j->pc0 + p) * t->kc, kc = panel_kc(j, p);
    const float *panel = j->packB + p * t->kc * j->slivers * t->nr;
    t->macro(g->a + m0 * g->rsa + pc * g->csa, g->rsa, g->csa, m1 - m0, kc, panel + n0 * kc, n1 - n0,
             g->c + m0 * g->ldc + j->jc + n0, g->ldc, g->alpha, pc == 0 ? g->beta : 1.0f, packA,
             j->bias && pc + kc >= g->K ? j->bias + j->jc + n0 : NULL);
  }
}

/* bias: see SharedJob; sumsB (N) += op(B)'s column sums, panel by panel in order (or NULL; in a pass of its own where
 * there is no memory for the panels' partial sums) */
static void gemm_shared(const KernelTable *t, const GemmBlock *g, int threads, const float *bias, float *sumsB) {
  long ncMax = ((g->N < t->nc ? g->N : t->nc) + t->nr - 1) / t->nr * t->nr;
  long panels = (g->K + t->kc - 1) / t->kc;
  long perPhase = (double)panels * t->kc * ncMax * sizeof(float) <= FULLK_BYTES ? panels : 1;
  float *partials = sumsB ? rlaif_scratch(6, (size_t)perPhase * ncMax) : NULL;
  if (sumsB && !partials) {
    column_sums(g->b, g->N, g->K, g->csb != 1, 1, 0, sumsB);
    sumsB = NULL;
  }
  float *packB = rlaif_scratch(3, (size_t)perPhase * t->kc * ncMax);
  SharedJob j = { .t = t, .g = g, .packB = packB, .bias = bias, .sums = partials };
  long want = threads * gemm_tasks_per_thread; /* compute tasks per phase */
  for (j.jc = 0; j.jc < g->N; j.jc += t->nc) {
    j.nc = g->N - j.jc < t->nc ? g->N - j.jc : t->nc;
    j.slivers = (j.nc + t->nr - 1) / t->nr;
    j.slivers_per_task = (j.slivers + threads - 1) / threads;
    j.sliver_tasks = (j.slivers + j.slivers_per_task - 1) / j.slivers_per_task;
    long mblocks = (g->M + t->mr - 1) / t->mr;
    j.mchunks = mblocks < want ? mblocks : want;
    j.mstep = (mblocks + j.mchunks - 1) / j.mchunks * t->mr;
    j.mchunks = (g->M + j.mstep - 1) / j.mstep;
    j.nchunks = (want + j.mchunks - 1) / j.mchunks;
    if (g->csa != 1 && mblocks >= want) {
      /* transposed A (weight gradients x^T dY, K = tokens): its packing is strided and each column chunk would pack
       * the same rows again, so split rows only, in slivers fine enough to balance (128 rows: 10 tasks of 14) */
      j.mstep = (mblocks / want > 1 ? mblocks / want : 1) * t->mr;
      j.mchunks = (g->M + j.mstep - 1) / j.mstep;
      j.nchunks = 1;
    }
    if (j.nchunks > j.slivers) j.nchunks = j.slivers;
    j.nstep = (j.slivers + j.nchunks - 1) / j.nchunks * t->nr;
    j.nchunks = (j.nc + j.nstep - 1) / j.nstep;
    for (j.pc0 = 0; j.pc0 < panels; j.pc0 += perPhase) {
      j.pcs = panels - j.pc0 < perPhase ? panels - j.pc0 : perPhase;
      if ((double)j.pcs * t->kc * j.nc < SMALL_B_FLOATS) /* small B: the caller packs it, saving one barrier */
        for (long task = 0; task < j.pcs * j.sliver_tasks; task++) shared_pack_task(&j, task);
      else rlaif_pool_run(j.pcs * j.sliver_tasks, shared_pack_task, &j);
      if (sumsB) add_partials(sumsB + j.jc, partials, j.pcs, j.nc);
      rlaif_pool_run(j.mchunks * j.nchunks, shared_compute_task, &j);
    }
  }
}

/* Products with a few rows of A (decode steps) are memory-bound on B: stream it once, split by columns into ~4 tasks
 * per thread (spare tasks absorb a busy neighbour; 512-column tasks left N = 768 as 512 + 256 on two threads). */
#define GEMV_MAX_M 16   /* B (K, N): register tiles beat packing up to here */
/* ... and up to this many rows when B is small enough to stay in L2 between the 8-row tiles (each tile reads all of
 * B): a 32-token prefill block of a 192-wide model spent ~2x longer packing its weights than multiplying (M = 32,
 * K = 192, N = 576: 111 us packed on two threads, 56 on one, ~37 as four register tiles). The tiles sum in the packed
 * GEMM's kc panels (level_ops.c gemv_nn), so a row's bits are the packed product's whatever M is. */
#define GEMV_SMALL_B_MAX_M 128
#define GEMV_SMALL_B_FLOATS (160L * 1024)
#define GEMV_MAX_M_NT 4 /* B (N, K): dot products for a few rows; 5 to GEMV_MAX_M rows through gemv_nt_tiles */
#define GEMV_MIN_COLUMNS 64 /* a multiple of every level's 2 x LANES */

static void gemv_task(void *ctx, long task) {
  const GemmJob *j = ctx;
  long n0 = task * j->nstep, n1 = n0 + j->nstep < j->N ? n0 + j->nstep : j->N;
  if (n0 >= n1) return;
  if (j->transB && j->M > GEMV_MAX_M_NT) j->t->gemv_nt_tiles(j->a, j->b, j->c, j->M, j->N, j->K, n0, n1, j->alpha, j->beta);
  else if (j->transB) j->t->gemv_nt(j->a, j->b, j->c, j->M, j->N, j->K, n0, n1, j->alpha, j->beta);
  else j->t->gemv_nn(j->a, j->b, j->c, j->M, j->N, j->K, n0, n1, j->alpha, j->beta);
}

/* A few rows of A and B (K, N): tasks take contiguous row ranges of B (each streams its block in memory order) into
 * partial sums, added up by the caller: c = alpha sum_t P_t + beta c. */
#define GEMV_STREAM_MAX_M 4
#define GEMV_STREAM_MIN_ROWS 32

/* A product split over k: task t takes k in [t kstep, (t + 1) kstep), its sums kept apart in partials */
typedef struct { const GemmJob *j; float *partials; long kstep; float *sums; } KSplitJob;

static inline long ksplit_end(const KSplitJob *s, long k0) { return k0 + s->kstep < s->j->K ? k0 + s->kstep : s->j->K; }

static void stream_task(void *ctx, long task) {
  const KSplitJob *s = ctx;
  const GemmJob *j = s->j;
  long k0 = task * s->kstep, k1 = ksplit_end(s, k0);
  float *p = s->partials + task * j->M * j->N;
  if (k0 < k1) j->t->gemv_nn_rows(j->a, j->K, j->b, j->N, p, j->M, k0, k1);
  else memset(p, 0, sizeof(float) * j->M * j->N);
}

__attribute__((noinline)) static void gemv_stream(const GemmJob *j, int threads) {
  long tasks = 1;
  if (threads > 1 && (double)j->M * j->N * j->K >= mt_min_macs_stream) {
    tasks = j->K / GEMV_STREAM_MIN_ROWS;
    if (tasks > threads * 4) tasks = threads * 4;
    if (tasks < 1) tasks = 1;
  }
  KSplitJob s = { j, rlaif_scratch(4, (size_t)tasks * j->M * j->N), (j->K + tasks - 1) / tasks, NULL };
  if (tasks == 1) stream_task(&s, 0);
  else rlaif_pool_run(tasks, stream_task, &s);
  long mn = j->M * j->N;
  for (long i = 0; i < mn; i++) {
    float sum = s.partials[i];
    for (long t = 1; t < tasks; t++) sum += s.partials[t * mn + i];
    j->c[i] = j->beta == 0.0f ? j->alpha * sum : j->alpha * sum + j->beta * j->c[i];
  }
}

static void gemv(GemmJob *j, int threads) {
  /* 3-4 rows of a B that stays in L2 go faster through the register tiles (no C row traffic per k: 1.8-2.4x on
   * Zen 2, bench/gemv-ab.ts); 1-2 rows do not (a 1- or 2-row tile is bound by its few multiply-add chains' latency),
   * and B from memory streams in row order whatever M is. gemv_stream stays out of line: inlined here it ran the
   * 2-row products 1.3-1.5x slower (the same comparison, builds swapped) */
  if (!j->transB && j->M <= GEMV_STREAM_MAX_M && (j->M <= 2 || j->K * j->N > GEMV_SMALL_B_FLOATS)) {
    gemv_stream(j, threads);
    return;
  }
  if (threads == 1 || (double)j->M * j->N * j->K < mt_min_macs_few_rows) {
    j->nstep = j->N;
    gemv_task(j, 0);
    return;
  }
  long want = threads * 4, step = (j->N + want - 1) / want;
  step = (step + GEMV_MIN_COLUMNS - 1) / GEMV_MIN_COLUMNS * GEMV_MIN_COLUMNS;
  j->nstep = step;
  rlaif_pool_run((j->N + step - 1) / step, gemv_task, j);
}

/* c (n) += each of `count` partial sums (n each, one after another), in order */
static void add_partials(float *c, const float *partials, long count, long n) {
  for (long t = 0; t < count; t++)
    for (long i = 0; i < n; i++) c[i] += partials[t * n + i];
}

/* Tall K with op(A) = A^T (weight gradients x^T dY: K = the batch's rows, M = features, and K at least
 * TALL_MIN_K_OVER_M times M): each thread takes a contiguous range of k and runs the serial blocked GEMM on it, into C
 * itself (the first, with beta) or a partial C of its own (alpha, beta 0), added up by the caller. The shared path
 * splits such a product by rows only, a few slivers per task, and each task streams all of the packed B (K x N: 2 MiB
 * for 1024 x 512, past a 1 MiB L2) from L3 again; here each thread reads its part of A and B once. The sums' order
 * over k follows the thread count, as the mixed-precision tall path's does. */
#define TALL_MIN_K_OVER_M 4

static void tall_fp32_task(void *ctx, long task) {
  const KSplitJob *s = ctx;
  const GemmJob *j = s->j;
  long k0 = task * s->kstep, k1 = ksplit_end(s, k0);
  float *sums = s->sums ? s->sums + task * j->N : NULL;
  if (sums) memset(sums, 0, sizeof(float) * (size_t)j->N);
  if (task == 0) serial_block(j, 0, 0, j->M, 0, j->N, k0, k1, NULL, j->beta, NULL, sums);
  else serial_block(j, 0, 0, j->M, 0, j->N, k0, k1, s->partials + (task - 1) * j->M * j->N, 0.0f, NULL, sums);
}

/* returns 0, having done nothing, when there is no memory for the partial sums; sumsB: see rlaif_gemm_fused (each
 * task's k range summed apart, then added in task order) */
static int gemm_tall_fp32(const GemmJob *j, int threads, float *sumsB) {
  KSplitJob s = { j, NULL, (j->K + threads - 1) / threads, NULL };
  long tasks = (j->K + s.kstep - 1) / s.kstep, mn = j->M * j->N;
  s.partials = rlaif_scratch(2, (size_t)((tasks - 1) * mn)); /* the caller's slot: tasks use 0 and 1 */
  if (sumsB) s.sums = rlaif_scratch(6, (size_t)(tasks * j->N));
  if (!s.partials || (sumsB && !s.sums)) return 0;
  rlaif_pool_run(tasks, tall_fp32_task, &s);
  add_partials(j->c, s.partials, tasks - 1, mn);
  if (sumsB) add_partials(sumsB, s.sums, tasks, j->N);
  return 1;
}

/* sumsB (N) += op(B)'s column sums over every batch item, one item after another, each column summed over k in order
 * and then added (B row-major: 256 columns at a time, each row's piece read in order) */
static void column_sums(const float *b, long N, long K, int transB, long batch, long sb, float *sumsB) {
  for (long bi = 0; bi < batch; bi++) {
    const float *bb = b + bi * sb;
    if (transB) { /* op(B)[k, j] = bb[j K + k] */
      for (long j = 0; j < N; j++) {
        float s = 0.0f;
        for (long k = 0; k < K; k++) s += bb[j * K + k];
        sumsB[j] += s;
      }
      continue;
    }
    for (long j0 = 0; j0 < N; j0 += 256) {
      long w = N - j0 < 256 ? N - j0 : 256;
      float s[256] = { 0 };
      for (long k = 0; k < K; k++)
        for (long j = 0; j < w; j++) s[j] += bb[k * N + j0 + j];
      for (long j = 0; j < w; j++) sumsB[j0 + j] += s[j];
    }
  }
}

/* every row of every item's C (M, N) += bias (N) */
static void add_bias_rows(float *c, long M, long N, long batch, long sc, const float *bias) {
  for (long bi = 0; bi < batch; bi++)
    for (long i = 0; i < M; i++) {
      float *row = c + bi * sc + i * N;
      for (long j = 0; j < N; j++) row[j] += bias[j];
    }
}

/* What a path of gemm_paths did besides the product: op(B)'s column sums, and the bias in its tiles. */
enum { DID_SUMS = 1, DID_BIAS = 2 };

/* The product (K > 0) on the path that suits it, with biasTiles (or NULL) added by the tiles and sumsB (or NULL) summed
 * from the packed panels where that path can: returns which of the two it did. */
static int gemm_paths(const KernelTable *t, const float *a, const float *b, float *c, long M, long N, long K,
                      int transA, int transB, float alpha, float beta, long batch, long sa, long sb, long sc,
                      const float *biasTiles, float *sumsB) {
  GemmJob j = { t, a, b, c, M, N, K, sa, sb, sc, transA, transB, alpha, beta, 1, 1, M, N, biasTiles, NULL };
  int threads = rlaif_threads();
  if (!transA && batch == 1 && (M <= GEMV_MAX_M
                                  || (!transB && M <= GEMV_SMALL_B_MAX_M && K * N <= GEMV_SMALL_B_FLOATS))) { /* B read in place, no packing */
    gemv(&j, threads);
    return 0;
  }
  double macs = (double)M * N * K * batch;
  if (threads == 1 || macs < (M <= GEMV_MAX_M && batch == 1 ? mt_min_macs_few_rows : mt_min_macs)) {
    j.sums = sumsB; /* one item after another on this thread: each packed panel summed as it is packed */
    for (long bi = 0; bi < batch; bi++) run_block(&j, bi, 0, M, 0, N);
    return DID_SUMS | DID_BIAS;
  }
  if (batch == 1 && transA && K >= TALL_MIN_K_OVER_M * M && K >= 2 * threads && gemm_tall_fp32(&j, threads, sumsB)) return DID_SUMS;
  int disjoint = batch == 1 || sc >= M * N; /* overlapping C batches must run in order, as in the js reference */
  if (disjoint && (batch >= threads * 2 || (batch >= threads && batch % threads == 0))) { /* items per task */
    rlaif_pool_run(batch, gemm_task, &j); /* the items' sums would race: summed afterwards */
    return DID_BIAS;
  }
  for (long bi = 0; bi < batch; bi++) { /* few large items: all threads on each */
    GemmBlock g = { 0 };
    g.rsa = transA ? 1 : K; g.csa = transA ? M : 1;
    g.rsb = transB ? 1 : N; g.csb = transB ? K : 1;
    g.a = a + bi * sa; g.b = b + bi * sb; g.c = c + bi * sc; g.ldc = N;
    g.M = M; g.N = N; g.K = K; g.alpha = alpha; g.beta = beta;
    gemm_shared(t, &g, threads, biasTiles, sumsB);
  }
  return DID_SUMS | DID_BIAS;
}

void rlaif_gemm(const KernelTable *t, const float *a, const float *b, float *c, long M, long N, long K, int transA,
                int transB, float alpha, float beta, long batch, long sa, long sb, long sc) {
  rlaif_gemm_fused(t, a, b, c, M, N, K, transA, transB, alpha, beta, batch, sa, sb, sc, NULL, NULL);
}

void rlaif_gemm_fused(const KernelTable *t, const float *a, const float *b, float *c, long M, long N, long K,
                      int transA, int transB, float alpha, float beta, long batch, long sa, long sb, long sc,
                      float *sumsB, const float *biasC) {
  if (batch == 0 || M == 0 || N == 0) return;
  /* the tiles add the bias after the product's own rounding where C is written once per item (alpha 1, beta 0, items
   * apart); elsewhere, and on paths without tiles, it is added afterwards, once per item */
  const float *biasTiles = alpha == 1.0f && beta == 0.0f && (batch == 1 || sc >= M * N) ? biasC : NULL;
  int did = 0;
  if (K == 0) /* C = beta C; beta 0 never reads C */
    for (long bi = 0; bi < batch; bi++)
      for (long i = 0; i < M * N; i++) {
        float *p = c + bi * sc + i;
        *p = beta == 0.0f ? 0.0f : beta * *p;
      }
  else did = gemm_paths(t, a, b, c, M, N, K, transA, transB, alpha, beta, batch, sa, sb, sc, biasTiles, sumsB);
  if (sumsB && !(did & DID_SUMS)) column_sums(b, N, K, transB, batch, sb, sumsB);
  if (biasC && !(biasTiles && (did & DID_BIAS))) add_bias_rows(c, M, N, batch, sc, biasC);
}

/* ---- bf16 weights (generation) ---- */
#define BF16_GEMV_MAX_M 16   /* bf16 dot products (W rows from L1 for each row of A) up to here, then widen + GEMM */
#define BF16_BLOCK_ROWS 128  /* rows of W widened per task: 128 x K floats (384 KiB at K = 768) stay in L2 */

typedef struct {
  const KernelTable *t;
  const float *af;     /* (M, K) A rounded to bf16, as float32 */
  const uint16_t *ab;  /* (M, K) the same as bf16 bits */
  const uint16_t *w;   /* (N, K) */
  float *c;            /* (M, N) */
  long M, N, K, step;
} Bf16Job;

static void bf16_gemv_task(void *ctx, long task) {
  const Bf16Job *j = ctx;
  long n0 = task * j->step, n1 = n0 + j->step < j->N ? n0 + j->step : j->N;
  if (n0 < n1) j->t->gemv_bf16(j->af, j->ab, j->w, j->c, j->M, j->N, j->K, n0, n1);
}

/* rows [n0, n1) of W widened to float32, then C[:, n0:n1] = A_rounded (M, K) @ block^T on this thread */
static void bf16_block_task(void *ctx, long task) {
  const Bf16Job *j = ctx;
  const KernelTable *t = j->t;
  long n0 = task * j->step, n1 = n0 + j->step < j->N ? n0 + j->step : j->N;
  if (n0 >= n1) return;
  float *block = rlaif_scratch(2, (size_t)(n1 - n0) * j->K);
  t->bf16_widen(j->w + n0 * j->K, block, (n1 - n0) * j->K);
  GemmBlock g = { .a = j->af, .rsa = j->K, .csa = 1, .b = block, .rsb = 1, .csb = j->K, .c = j->c + n0, .ldc = j->N,
                  .M = j->M, .N = n1 - n0, .K = j->K, .alpha = 1.0f, .beta = 0.0f };
  long nc = ((g.N < t->nc ? g.N : t->nc) + t->nr - 1) / t->nr * t->nr;
  t->gemm(&g, rlaif_scratch(0, (size_t)(t->mc + t->mr) * t->kc), rlaif_scratch(1, (size_t)nc * t->kc));
}


/* AVX512_BF16: A packed once in pairs (tasks over slivers), then column blocks of C, each packing its own W block */
typedef struct {
  const float *a;      /* (M, K) float32: rounded to bf16 as it is packed */
  const uint16_t *w;
  uint32_t *packA;
  float *c;
  long M, N, K, slivers, per, step;
} DpJob;

static void dp_pack_task(void *ctx, long task) {
  const DpJob *j = ctx;
  long s0 = task * j->per, s1 = s0 + j->per < j->slivers ? s0 + j->per : j->slivers;
  if (s0 < s1) rlaif_mixed_pack_a(j->a, j->K, 1, j->M, j->K, s0, s1, j->packA); /* round + pack in one pass */
}

static void dp_columns_task(void *ctx, long task) {
  const DpJob *j = ctx;
  long n0 = task * j->step, n1 = n0 + j->step < j->N ? n0 + j->step : j->N;
  if (n0 >= n1) return;
  uint32_t *packW = (uint32_t *)rlaif_scratch(2, (size_t)rlaif_bf16_pack_w_words(j->step));
  rlaif_bf16_gemm_columns(j->packA, j->w, j->c, j->M, j->N, j->K, n0, n1, packW);
}

static void gemm_bf16_dp(const float *a, const uint16_t *w, float *c, long M, long N, long K, int threads) {
  DpJob j = { .a = a, .w = w, .c = c, .M = M, .N = N, .K = K };
  j.packA = (uint32_t *)rlaif_scratch(5, (size_t)rlaif_bf16_pack_a_words(M, K));
  j.slivers = (M + rlaif_bf16_sliver_rows() - 1) / rlaif_bf16_sliver_rows();
  int parallel = threads > 1 && (double)M * N * K >= mt_min_macs;
  long want = parallel ? threads * 4 : 1;
  j.per = (j.slivers + want - 1) / want;
  if (parallel) rlaif_pool_run((j.slivers + j.per - 1) / j.per, dp_pack_task, &j);
  else dp_pack_task(&j, 0);
  j.step = (N + want - 1) / want;
  j.step = (j.step + 31) / 32 * 32;
  if (parallel) rlaif_pool_run((N + j.step - 1) / j.step, dp_columns_task, &j);
  else dp_columns_task(&j, 0);
}

void rlaif_gemm_bf16(const KernelTable *t, const float *a, const uint16_t *w, float *c, long M, long N, long K) {
  if (M == 0 || N == 0) return;
  if (K == 0) { for (long i = 0; i < M * N; i++) c[i] = 0.0f; return; }
  /* slots 4 and 5 belong to this caller: tasks (on any thread, this one included) only use slots 0-2 */
  int threads = rlaif_threads();
  if (M > BF16_GEMV_MAX_M && t->dpbf16) { gemm_bf16_dp(a, w, c, M, N, K, threads); return; }
  uint16_t *ab = (uint16_t *)rlaif_scratch(4, (size_t)(M * K + 1) / 2);
  t->bf16_round(a, ab, M * K);
  float *af = rlaif_scratch(5, (size_t)M * K);
  t->bf16_widen(ab, af, M * K);
  Bf16Job j = { .t = t, .af = af, .ab = ab, .w = w, .c = c, .M = M, .N = N, .K = K };
  double macs = (double)M * N * K;
  if (M <= BF16_GEMV_MAX_M) {
    if (threads == 1 || macs < (M <= GEMV_STREAM_MAX_M ? mt_min_macs_stream : mt_min_macs / 4)) { j.step = N; bf16_gemv_task(&j, 0); return; }
    long want = threads * 4;
    j.step = (N + want - 1) / want;
    j.step = (j.step + 15) / 16 * 16;
    rlaif_pool_run((N + j.step - 1) / j.step, bf16_gemv_task, &j);
    return;
  }
  j.step = BF16_BLOCK_ROWS;
  long tasks = (N + j.step - 1) / j.step;
  if (threads == 1 || macs < mt_min_macs) for (long task = 0; task < tasks; task++) bf16_block_task(&j, task);
  else rlaif_pool_run(tasks, bf16_block_task, &j);
}

/* ---- mixed precision (training): C = alpha bf16(op(A)) bf16(op(B)) + beta C, float32 sums ---- */
typedef struct {
  const float *a, *b;
  long rsa, csa, rsb, csb;
  uint32_t *packA, *packB;
  float *c;
  long ldc, M, N, K, aslivers, bslivers;
  long apack_per, apack_tasks, bpack_per;     /* pack phase: A slivers per task, then B slivers per task */
  long mstep, nstep, mchunks, nchunks;        /* compute phase, in slivers */
  int accumulate;
  float *sums;                                /* column sums of op(B), or NULL */
  const float *bias;                          /* (N) added to every row of C, or NULL */
} MixedJob;

static void mixed_pack_task(void *ctx, long task) {
  const MixedJob *j = ctx;
  if (task < j->apack_tasks) {
    long s0 = task * j->apack_per, s1 = s0 + j->apack_per < j->aslivers ? s0 + j->apack_per : j->aslivers;
    if (s0 < s1) rlaif_mixed_pack_a(j->a, j->rsa, j->csa, j->M, j->K, s0, s1, j->packA);
    return;
  }
  long t0 = (task - j->apack_tasks) * j->bpack_per;
  long t1 = t0 + j->bpack_per < j->bslivers ? t0 + j->bpack_per : j->bslivers;
  if (t0 < t1) rlaif_mixed_pack_b(j->b, j->rsb, j->csb, j->N, j->K, t0, t1, j->packB, j->sums);
}

static void mixed_compute_task(void *ctx, long task) {
  const MixedJob *j = ctx;
  long s0 = task / j->nchunks * j->mstep, t0 = task % j->nchunks * j->nstep;
  long s1 = s0 + j->mstep < j->aslivers ? s0 + j->mstep : j->aslivers;
  long t1 = t0 + j->nstep < j->bslivers ? t0 + j->nstep : j->bslivers;
  if (s0 < s1 && t0 < t1)
    rlaif_mixed_compute(j->packA, j->packB, j->c, j->ldc, j->M, j->N, j->K, s0, s1, t0, t1, j->accumulate, j->bias);
}

/* small op(B) (projections' forward and input gradients): B packed first, then each task packs its own rows
 * of A into its scratch (in L2 when it multiplies them) and computes every column of those rows: one hand-off */
static void mixed_rows_task(void *ctx, long task) {
  const MixedJob *j = ctx;
  long s0 = task * j->mstep, s1 = s0 + j->mstep < j->aslivers ? s0 + j->mstep : j->aslivers;
  if (s0 >= s1) return;
  long sr = rlaif_bf16_sliver_rows(), m0 = s0 * sr, rows = (s1 * sr < j->M ? s1 * sr : j->M) - m0;
  uint32_t *packA = (uint32_t *)rlaif_scratch(0, (size_t)rlaif_bf16_pack_a_words(rows, j->K));
  rlaif_mixed_pack_a(j->a + m0 * j->rsa, j->rsa, j->csa, rows, j->K, 0, s1 - s0, packA);
  rlaif_mixed_compute(packA, j->packB, j->c + m0 * j->ldc, j->ldc, rows, j->N, j->K, 0, s1 - s0, 0, j->bslivers,
                      j->accumulate, j->bias);
}

#define MIXED_SMALL_B (192L * 1024) /* op(B) elements packed before the rows tasks start (~20-40 us on one thread) */

/* tall K (weight gradients: K = the batch's rows, M and N = features): tasks take whole k blocks, and each packs one
 * block of A and of B at a time into its own scratch (in L2: at most (M + N) x 256 bf16) and multiplies it into a
 * partial C (task 0's is C itself), added up by the caller. One hand-off, no packed operand shared between cores or
 * written out to L3 and read back (packing all of K for M, N = 128..512 made 0.25-1 MiB per operand per product) */
typedef struct {
  const float *a, *b;
  long rsa, csa, rsb, csb;
  float *c;
  long M, N, K, kstep;
  int accumulate;
  float *partials;                            /* (tasks - 1, M, N): the partial C of tasks 1, 2, ... */
  float *sums, *partialSums;                  /* column sums of op(B) (or NULL): task 0's, then (tasks - 1, N) */
  const float *bias;                          /* (N) added to every row of C by task 0, or NULL */
} TallJob;

static void mixed_tall_task(void *ctx, long task) {
  TallJob *j = ctx;
  long bk = rlaif_mixed_block_k(), sr = rlaif_bf16_sliver_rows();
  long k0 = task * j->kstep, k1 = k0 + j->kstep < j->K ? k0 + j->kstep : j->K;
  float *c = task == 0 ? j->c : j->partials + (task - 1) * j->M * j->N;
  float *sums = !j->sums ? NULL : task == 0 ? j->sums : j->partialSums + (task - 1) * j->N;
  long aslivers = (j->M + sr - 1) / sr, bslivers = (j->N + 31) / 32;
  uint32_t *packA = (uint32_t *)rlaif_scratch(0, (size_t)rlaif_bf16_pack_a_words(j->M, bk));
  uint32_t *packB = (uint32_t *)rlaif_scratch(1, (size_t)rlaif_mixed_pack_b_words(j->N, bk));
  for (long kb = k0; kb < k1; kb += bk) {
    long kl = k1 - kb < bk ? k1 - kb : bk;
    rlaif_mixed_pack_a(j->a + kb * j->csa, j->rsa, j->csa, j->M, kl, 0, aslivers, packA);
    rlaif_mixed_pack_b(j->b + kb * j->rsb, j->rsb, j->csb, j->N, kl, 0, bslivers, packB, sums);
    rlaif_mixed_compute(packA, packB, c, j->N, j->M, j->N, kl, 0, aslivers, 0, bslivers,
                        kb > k0 || (task == 0 && j->accumulate), task == 0 && kb == 0 ? j->bias : NULL);
  }
}

static void gemm_mixed_tall(const float *a, long rsa, long csa, const float *b, long rsb, long csb, float *c, long M,
                            long N, long K, int accumulate, float *sums, const float *bias, int threads) {
  long bk = rlaif_mixed_block_k(), blocks = (K + bk - 1) / bk;
  long tasks = threads > 1 && (double)M * N * K >= mt_min_macs ? threads : 1;
  if (tasks > blocks) tasks = blocks;
  TallJob j = { .a = a, .b = b, .rsa = rsa, .csa = csa, .rsb = rsb, .csb = csb, .c = c, .M = M, .N = N, .K = K,
                .accumulate = accumulate, .sums = sums, .bias = bias };
  j.kstep = (blocks + tasks - 1) / tasks * bk;
  tasks = (K + j.kstep - 1) / j.kstep;                /* every task has at least one block */
  if (tasks == 1) { mixed_tall_task(&j, 0); return; }
  long mn = M * N;
  j.partials = rlaif_scratch(2, (size_t)((tasks - 1) * (mn + N))); /* the caller's slot: tasks use 0 and 1 */
  j.partialSums = j.partials + (tasks - 1) * mn;
  if (sums) memset(j.partialSums, 0, sizeof(float) * (size_t)((tasks - 1) * N));
  rlaif_pool_run(tasks, mixed_tall_task, &j);
  add_partials(c, j.partials, tasks - 1, mn);
  if (sums) add_partials(sums, j.partialSums, tasks - 1, N);
}

/* one product on vdpbf16ps: both operands packed (and rounded) once, by all threads, then tiles of C */
static void gemm_mixed_dp(const float *a, long rsa, long csa, const float *b, long rsb, long csb, float *c, long M,
                          long N, long K, int accumulate, float *sums, const float *bias, int threads) {
  long sr = rlaif_bf16_sliver_rows();
  if (K >= 2 * rlaif_mixed_block_k() && K >= M && K >= N) {
    gemm_mixed_tall(a, rsa, csa, b, rsb, csb, c, M, N, K, accumulate, sums, bias, threads);
    return;
  }
  MixedJob j = { .a = a, .b = b, .rsa = rsa, .csa = csa, .rsb = rsb, .csb = csb, .c = c, .ldc = N, .M = M, .N = N,
                 .K = K, .accumulate = accumulate, .sums = sums, .bias = bias };
  j.aslivers = (M + sr - 1) / sr;
  j.bslivers = (N + 31) / 32;
  j.packA = (uint32_t *)rlaif_scratch(5, (size_t)rlaif_bf16_pack_a_words(M, K));
  j.packB = (uint32_t *)rlaif_scratch(4, (size_t)rlaif_mixed_pack_b_words(N, K));
  int parallel = threads > 1 && (double)M * N * K >= mt_min_macs;
  if (parallel && K * N <= MIXED_SMALL_B && j.aslivers >= threads * 4) {
    if (j.bslivers >= 2 * threads) { /* B's slivers packed by all threads first: one more hand-off, 4-6% a product */
      j.apack_tasks = 0;
      j.bpack_per = (j.bslivers + threads - 1) / threads;
      rlaif_pool_run((j.bslivers + j.bpack_per - 1) / j.bpack_per, mixed_pack_task, &j);
    } else rlaif_mixed_pack_b(b, rsb, csb, N, K, 0, j.bslivers, j.packB, sums);
    j.mstep = (j.aslivers + threads * 4 - 1) / (threads * 4);
    rlaif_pool_run((j.aslivers + j.mstep - 1) / j.mstep, mixed_rows_task, &j);
    return;
  }
  long want = parallel ? threads * 2 : 1;
  j.apack_per = (j.aslivers + want - 1) / want;
  j.apack_tasks = (j.aslivers + j.apack_per - 1) / j.apack_per;
  j.bpack_per = (j.bslivers + want - 1) / want;
  long tasks = j.apack_tasks + (j.bslivers + j.bpack_per - 1) / j.bpack_per;
  if (parallel) rlaif_pool_run(tasks, mixed_pack_task, &j);
  else for (long task = 0; task < tasks; task++) mixed_pack_task(&j, task);
  /* compute: ~4 tiles of C per thread (spares absorb a busy neighbour), split by rows first */
  want = parallel ? threads * 4 : 1;
  j.mchunks = j.aslivers < want ? j.aslivers : want;
  j.mstep = (j.aslivers + j.mchunks - 1) / j.mchunks;
  j.mchunks = (j.aslivers + j.mstep - 1) / j.mstep;
  j.nchunks = (want + j.mchunks - 1) / j.mchunks;
  if (j.nchunks > j.bslivers) j.nchunks = j.bslivers;
  j.nstep = (j.bslivers + j.nchunks - 1) / j.nchunks;
  j.nchunks = (j.bslivers + j.nstep - 1) / j.nstep;
  if (parallel) rlaif_pool_run(j.mchunks * j.nchunks, mixed_compute_task, &j);
  else for (long task = 0; task < j.mchunks * j.nchunks; task++) mixed_compute_task(&j, task);
}

/* operands rounded to bf16 into float32 copies of the same layout, then the level's GEMM (the plain path: exact
 * products of bf16 values, float32 sums, as vdpbf16ps) */
static int gemm_mixed_plain(const KernelTable *t, const float *a, const float *b, float *c, long M, long N, long K,
                            int transA, int transB, float alpha, float beta) {
  long most = M * K > K * N ? M * K : K * N;
  float *ar = malloc(sizeof(float) * (size_t)(M * K)), *br = malloc(sizeof(float) * (size_t)(K * N));
  uint16_t *bits = malloc(sizeof(uint16_t) * (size_t)most);
  if (!ar || !br || !bits) { free(ar); free(br); free(bits); return -1; }
  t->bf16_round(a, bits, M * K); /* the level's rounding (level_ops.c), the one gemmBf16 uses */
  t->bf16_widen(bits, ar, M * K);
  t->bf16_round(b, bits, K * N);
  t->bf16_widen(bits, br, K * N);
  rlaif_gemm(t, ar, br, c, M, N, K, transA, transB, alpha, beta, 1, 0, 0, 0);
  free(ar); free(br); free(bits);
  return 0;
}

int rlaif_gemm_mixed(const KernelTable *t, const float *a, const float *b, float *c, long M, long N, long K,
                     int transA, int transB, float alpha, float beta, long batch, long sa, long sb, long sc,
                     float *sumsB, const float *biasC) {
  if (batch == 0 || M == 0 || N == 0) return 0;
  for (long bi = 0; bi < batch; bi++) {
    const float *ab = a + bi * sa, *bb = b + bi * sb;
    float *cb = c + bi * sc;
    if (K == 0 || !t->dpbf16) {
      if (sumsB) column_sums(bb, N, K, transB, 1, 0, sumsB);
      if (K == 0) rlaif_gemm(t, ab, bb, cb, M, N, K, transA, transB, alpha, beta, 1, 0, 0, 0);
      else if (gemm_mixed_plain(t, ab, bb, cb, M, N, K, transA, transB, alpha, beta)) return -1;
      if (biasC) add_bias_rows(cb, M, N, 1, 0, biasC);
      continue;
    }
    long rsa = transA ? 1 : K, csa = transA ? M : 1, rsb = transB ? 1 : N, csb = transB ? K : 1;
    int threads = rlaif_threads();
    if (alpha == 1.0f && (beta == 0.0f || beta == 1.0f)) {
      gemm_mixed_dp(ab, rsa, csa, bb, rsb, csb, cb, M, N, K, beta == 1.0f, sumsB, biasC, threads);
      continue;
    }
    float *product = rlaif_scratch(3, (size_t)(M * N)); /* C = alpha P + beta C, P never aliases C */
    gemm_mixed_dp(ab, rsa, csa, bb, rsb, csb, product, M, N, K, 0, sumsB, NULL, threads);
    for (long i = 0; i < M * N; i++) {
      cb[i] = beta == 0.0f ? alpha * product[i] : alpha * product[i] + beta * cb[i];
      if (biasC) cb[i] += biasC[i % N]; /* (M, N) row-major: column i mod N */
    }
  }
  return 0;
}
