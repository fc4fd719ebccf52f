/* Persistent pthread pool: workers spin briefly then sleep on a condition variable, so back-to-back kernels
 * pay microseconds, not thread creation. One job at a time; a second caller (e.g. a worker_thread) runs serially.
 * Leaves out: work stealing, affinity pinning, nested parallelism (a task never calls the pool). */
#define _GNU_SOURCE
#include "common.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS 64
#define SPIN_ITERS 8000 /* x ~25 ns pause on this CPU: workers spin ~200 us, then sleep */

static struct {
  int nthreads;                /* including the caller */
  pthread_mutex_t busy;        /* held by the thread running a job */
  pthread_mutex_t lock;
  pthread_cond_t wake;
  atomic_uint generation;      /* bumped per job */
  atomic_long next;            /* next task index */
  atomic_int active;           /* workers inside the current job */
  atomic_int closed;           /* 1 once the caller has seen every task claimed */
  long ntasks;
  TaskFn fn;
  void *ctx;
} pool = { .closed = 1, .busy = PTHREAD_MUTEX_INITIALIZER, .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

static pthread_once_t once = PTHREAD_ONCE_INIT;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static void run_tasks(void) {
  long t;
  while ((t = atomic_fetch_add_explicit(&pool.next, 1, memory_order_relaxed)) < pool.ntasks) pool.fn(pool.ctx, t);
}

static void *worker(void *arg) {
  (void)arg;
  /* workers start inside init(), before any job can be published: generation 0 is the one they have seen
   * (reading it here instead would race with the first job and leave it waiting for this worker forever) */
  unsigned seen = 0;
  for (;;) {
    unsigned g = seen;
    for (int i = 0; i < SPIN_ITERS && (g = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen; i++)
      cpu_relax();
    if (g == seen) {
      pthread_mutex_lock(&pool.lock);
      while ((g = atomic_load(&pool.generation)) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
      pthread_mutex_unlock(&pool.lock);
    }
    seen = g;
    /* join, then check the job is still open: a worker that wakes late (descheduled on a busy machine) finds it
     * closed and leaves without touching it, so the caller never waits for a worker that did no work */
    atomic_fetch_add(&pool.active, 1);
    if (!atomic_load(&pool.closed)) run_tasks();
    atomic_fetch_sub_explicit(&pool.active, 1, memory_order_release);
  }
  return NULL;
}

/* The CPUs this process may run on (taskset, docker --cpuset-cpus, a batch scheduler's cpuset), not every online one:
 * with 2 of 16 allowed, 16 threads would share 2 CPUs and every kernel would wait on descheduled workers. */
static int usable_cpus(void) {
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return cores > 0 ? (int)cores : 1;
}

static void init(void) {
  int n = usable_cpus();
  const char *env = getenv("RLAIF_THREADS");
  if (env && *env) {
    int v = atoi(env);
    if (v >= 1) n = v;
  }
  if (n > MAX_THREADS) n = MAX_THREADS;
  pool.nthreads = 1;
  for (int i = 1; i < n; i++) {
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, worker, NULL) == 0) pool.nthreads++;
    pthread_attr_destroy(&attr);
  }
}

int rlaif_threads(void) {
  pthread_once(&once, init);
  return pool.nthreads;
}

void rlaif_pool_run(long ntasks, TaskFn fn, void *ctx) {
  if (ntasks <= 0) return;
  int n = rlaif_threads();
  if (n == 1 || ntasks == 1 || pthread_mutex_trylock(&pool.busy) != 0) {
    for (long t = 0; t < ntasks; t++) fn(ctx, t);
    return;
  }
  pool.fn = fn; pool.ctx = ctx; pool.ntasks = ntasks;
  atomic_store_explicit(&pool.next, 0, memory_order_relaxed);
  atomic_store(&pool.closed, 0);
  pthread_mutex_lock(&pool.lock);
  atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.lock);
  run_tasks();
  /* every task is claimed; close the job, then wait only for workers that joined (they may still run a task) */
  atomic_store(&pool.closed, 1);
  for (long spins = 0; atomic_load_explicit(&pool.active, memory_order_acquire) > 0; spins++) {
    if (spins < SPIN_ITERS) cpu_relax(); else sched_yield();
  }
  pthread_mutex_unlock(&pool.busy);
}

typedef struct { RangeFn fn; void *ctx; long n, chunk; } RangeJob;

static void range_task(void *ctx, long t) {
  RangeJob *j = ctx;
  long i0 = t * j->chunk, i1 = i0 + j->chunk;
  if (i1 > j->n) i1 = j->n;
  j->fn(j->ctx, i0, i1);
}

/* work: rough cost of the whole range in nanoseconds; below ~20 us a single thread wins. */
void rlaif_parallel_for(long n, long grain, double work, RangeFn fn, void *ctx) {
  if (n <= 0) return;
  int threads = rlaif_threads();
  if (threads == 1 || work < 20000.0 || n <= grain) { fn(ctx, 0, n); return; }
  long chunks = threads * 4;
  long chunk = (n + chunks - 1) / chunks;
  if (chunk < grain) chunk = grain;
  RangeJob j = { fn, ctx, n, chunk };
  rlaif_pool_run((n + chunk - 1) / chunk, range_task, &j);
}

static __thread float *scratch_ptr[RLAIF_SCRATCH_SLOTS];
static __thread size_t scratch_len[RLAIF_SCRATCH_SLOTS];

float *rlaif_scratch(int slot, size_t n) {
  if (scratch_len[slot] < n) {
    free(scratch_ptr[slot]);
    size_t bytes = ((n * sizeof(float)) + 63) & ~(size_t)63;
    scratch_ptr[slot] = aligned_alloc(64, bytes);
    scratch_len[slot] = scratch_ptr[slot] ? n : 0;
  }
  return scratch_ptr[slot];
}
