// Loads kernels.wasm on a shared WebAssembly.Memory, hands out scratch space in it, and runs GEMM and attention
// jobs on the calling thread plus persistent, unref'd worker threads instantiating the module on the same memory.
// Leaves out the kernels' maths (native/wasm/*.c) and argument checking (wasm-backend.ts).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { EngineError } from '../../backend.ts';
import { engineEnvironment } from '../environment.ts';

const PAGE = 65536;
const STACK_BYTES = 65536;       // per worker instance (the kernels do not use the shadow stack; kept for safety)
const MAX_THREADS = 8;
const N_TASK_MAX = 512;          // widest column block of a GEMM task; sizes each thread's packing scratch
// Control words (int32 index from ctrl): SEQ is bumped to wake workers, QUIT stops them, ERROR reports a failure.
const SEQ = 0, QUIT = 1, ERROR = 2, READY = 3;
// Job words, as in native/wasm/kernels.h; a job is at most MAX_TASKS tasks (bigger ones run in chunks).
const J = { A: 0, B: 1, C: 2, M: 3, N: 4, K: 5, TA: 6, TB: 7, ALPHA: 8, BETA: 9, BATCH: 10, SA: 11, SB: 12, SC: 13,
  MTASK: 14, NTASK: 15, MTILES: 16, NTILES: 17, WORD: 18, FINISHED: 19, SCRATCH: 20, SCRATCH_BYTES: 21,
  HELPED: 22, KIND: 23, Q: 24, KK: 25, V: 26, OUT: 27, PROBS: 28, MASK: 29, DQ: 30, DK: 31, DV: 32, AB: 33, AH: 34,
  AHKV: 35, AT: 36, AS: 37, AD: 38, CAUSAL: 39, SCALE: 40 } as const;
const JOB_WORDS = 48, MAX_TASKS = 0x7fff;
const KIND_GEMM = 0, KIND_ATTENTION = 1, KIND_ATTENTION_BWD = 2;
const MR = 4, NR = 8;

/** One GEMM on operands already in linear memory (byte offsets), C = alpha op(A) op(B) + beta C per batch. */
export interface GemmJob {
  a: number; b: number; c: number; M: number; N: number; K: number; transA: boolean; transB: boolean;
  alpha: number; beta: number; batch: number; strideA: number; strideB: number; strideC: number;
}

/** Attention operands in linear memory (byte offsets; mask 0 when absent; dq/dk/dv unused by the forward). */
export interface AttentionJob {
  q: number; k: number; v: number; out: number; probs: number; mask: number; dq: number; dk: number; dv: number;
  B: number; H: number; Hkv: number; T: number; S: number; D: number; causal: boolean; scale: number;
}

type Exports = Record<string, (...args: number[]) => number> & { __heap_base: { value: number } };

// The few WebAssembly JS API pieces used here (tsconfig's lib has no WebAssembly declarations).
interface WasmMemory { readonly buffer: SharedArrayBuffer; grow(pages: number): number }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}

/** The WebAssembly global, or null when this runtime has none. */
export function webAssembly(): WasmApi | null {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly ?? null;
}

const WORKER_SOURCE = `
(function main() {
  const { workerData } = require('node:worker_threads');
  const { module, memory, ctrl, job, tid, stackTop } = workerData;
  const words = new Int32Array(memory.buffer, ctrl, 8);
  const jobWords = new Int32Array(memory.buffer, job, ${JOB_WORDS});
  let run;
  try {
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    instance.exports.__stack_pointer.value = stackTop;
    run = instance.exports.job_run;
    Atomics.add(words, ${READY}, 1);
  } catch (error) { return; } // this worker never takes tasks; the calling thread runs them all
  let seen = 0;
  for (;;) {
    Atomics.wait(words, ${SEQ}, seen);
    seen = Atomics.load(words, ${SEQ});
    if (Atomics.load(words, ${QUIT})) break;
    try { run(job, tid); } catch (error) { Atomics.store(words, ${ERROR}, 1); }
    Atomics.notify(jobWords, ${J.FINISHED});
  }
})();
`;

export class WasmRuntime {
  readonly memory: WasmMemory;
  readonly exports: Exports;
  readonly threads: number;
  private readonly module: object;
  private readonly ctrl: number;            // byte offset of the control words
  private readonly job: number;             // byte offset of the job words
  private readonly scratch: number;         // per-thread GEMM packing scratch, `scratchBytes` each
  private readonly scratchBytes: number;
  private readonly arenaBase: number;
  private arenaTop: number;
  private workers: Worker[] = [];
  /** GEMM tasks run by worker threads so far (tests check the threaded path really ran). */
  workerTasks = 0;
  f32!: Float32Array;
  i32!: Int32Array;

  constructor(threads: number) {
    const wasm = webAssembly();
    if (!wasm) throw new Error('this runtime has no WebAssembly');
    this.module = new wasm.Module(readFileSync(new URL('./kernels.wasm', import.meta.url)));
    this.threads = Math.max(1, Math.min(MAX_THREADS, threads));
    this.memory = new wasm.Memory({ initial: 64, maximum: 65536, shared: true });
    this.exports = new wasm.Instance(this.module, { env: { memory: this.memory } }).exports as unknown as Exports;
    const base = align(this.exports.__heap_base.value, 64);
    this.ctrl = base;
    this.job = base + 64;
    const stacks = base + 256;
    this.scratchBytes = align(this.exports.gemm_scratch_floats(N_TASK_MAX) * 4, 64);
    this.scratch = stacks + STACK_BYTES * this.threads;
    this.arenaBase = this.scratch + this.scratchBytes * this.threads;
    this.arenaTop = this.arenaBase;
    this.ensure(this.arenaBase);
    this.refresh();
  }

  /** Frees every arena allocation (call at the start of each kernel). */
  reset(): void { this.arenaTop = this.arenaBase; }

  /** Reserves `count` 4-byte elements in the arena, growing memory as needed; returns the byte offset. */
  alloc(op: string, count: number): number {
    const at = this.arenaTop;
    const end = align(at + count * 4, 64);
    if (end > 2 ** 32 - PAGE) throw new EngineError(op, `needs ${end} bytes of wasm memory, over the 4 GiB limit`);
    try {
      this.ensure(end);
    } catch (error) {
      throw new EngineError(op, `cannot grow wasm memory to ${end} bytes: ${(error as Error).message}`);
    }
    this.arenaTop = end;
    return at;
  }

  /** Copies the first n floats of src into a fresh arena allocation; src must really be a Float32Array. */
  put(op: string, src: Float32Array, n: number): number {
    if (!(src instanceof Float32Array)) throw new EngineError(op, `expected a Float32Array, got ${describe(src)}`);
    const at = this.alloc(op, n);
    if (n > 0) this.f32.set(src.subarray(0, n), at >>> 2);
    return at;
  }

  /** Copies the first n ints of src into a fresh arena allocation; src must really be an Int32Array. */
  putInt32(op: string, src: Int32Array, n: number): number {
    if (!(src instanceof Int32Array)) throw new EngineError(op, `expected an Int32Array, got ${describe(src)}`);
    const at = this.alloc(op, n);
    if (n > 0) this.i32.set(src.subarray(0, n), at >>> 2);
    return at;
  }

  /** Copies n floats at byte offset `at` into dst[offset..]. */
  get(op: string, at: number, dst: Float32Array, n: number): void {
    if (!(dst instanceof Float32Array)) throw new EngineError(op, `expected a Float32Array output, got ${describe(dst)}`);
    if (n > 0) dst.set(this.f32.subarray(at >>> 2, (at >>> 2) + n));
  }

  /** Runs one GEMM job, splitting it into tasks shared with the workers when it is large enough. */
  gemm(job: GemmJob, parallel: boolean): void {
    const { M, N, batch } = job;
    const threads = parallel ? this.threads : 1;
    const { mTask, nTask, mTiles, nTiles } = planTiles(M, N, batch, threads > 1 ? 8 * threads : 1);
    const perBatch = mTiles * nTiles;
    if (perBatch > MAX_TASKS) throw new EngineError('gemm', `N=${N} needs ${nTiles} column blocks, over the task limit`);
    const batchChunk = Math.max(1, Math.floor(MAX_TASKS / perBatch));
    for (let b0 = 0; b0 < batch; b0 += batchChunk) {
      const nb = Math.min(batchChunk, batch - b0);
      this.run(KIND_GEMM, nb * perBatch, threads > 1, this.scratch, this.scratchBytes, (words, floats) => {
        words[J.A] = job.a + 4 * b0 * job.strideA; words[J.B] = job.b + 4 * b0 * job.strideB;
        words[J.C] = job.c + 4 * b0 * job.strideC;
        words[J.M] = M; words[J.N] = N; words[J.K] = job.K;
        words[J.TA] = job.transA ? 1 : 0; words[J.TB] = job.transB ? 1 : 0;
        floats[J.ALPHA] = job.alpha; floats[J.BETA] = job.beta;
        words[J.BATCH] = nb; words[J.SA] = job.strideA; words[J.SB] = job.strideB; words[J.SC] = job.strideC;
        words[J.MTASK] = mTask; words[J.NTASK] = nTask; words[J.MTILES] = mTiles; words[J.NTILES] = nTiles;
      });
    }
  }

  /** Attention forward (dq = dk = dv = 0) or backward (dout in `out`), one task per (batch, kv head). */
  attention(job: AttentionJob, backward: boolean, parallel: boolean): void {
    const { B, H, Hkv, T, S, D } = job;
    const threads = parallel ? this.threads : 1;
    const pack = this.exports.gemm_scratch_floats(Math.max(S, D));
    const perThread = align(4 * ((backward ? roundUp((H / Hkv) * T * S, 16) : 0) + pack), 64);
    const scratch = this.alloc(backward ? 'attentionBackward' : 'attention', (perThread / 4) * threads);
    const batchChunk = Math.max(1, Math.floor(MAX_TASKS / Hkv));
    for (let b0 = 0; b0 < B; b0 += batchChunk) {
      const nb = Math.min(batchChunk, B - b0);
      const qOff = 4 * b0 * H * T * D, kvOff = 4 * b0 * Hkv * S * D;
      this.run(backward ? KIND_ATTENTION_BWD : KIND_ATTENTION, nb * Hkv, threads > 1, scratch, perThread, (words, floats) => {
        words[J.Q] = job.q + qOff; words[J.KK] = job.k + kvOff; words[J.V] = job.v + kvOff;
        words[J.OUT] = job.out + qOff; words[J.PROBS] = job.probs + 4 * b0 * H * T * S;
        words[J.MASK] = job.mask ? job.mask + 4 * b0 * S : 0;
        words[J.DQ] = job.dq + qOff; words[J.DK] = job.dk + kvOff; words[J.DV] = job.dv + kvOff;
        words[J.AB] = nb; words[J.AH] = H; words[J.AHKV] = Hkv; words[J.AT] = T; words[J.AS] = S; words[J.AD] = D;
        words[J.CAUSAL] = job.causal ? 1 : 0; floats[J.SCALE] = job.scale;
      });
    }
  }

  /** Publishes a job (fill writes its parameters), runs tasks here and on the woken workers, waits for all. */
  private run(kind: number, nTasks: number, parallel: boolean, scratch: number, scratchBytes: number,
    fill: (words: Int32Array, floats: Float32Array) => void): void {
    const words = new Int32Array(this.memory.buffer, this.job, JOB_WORDS);
    fill(words, new Float32Array(this.memory.buffer, this.job, JOB_WORDS));
    words[J.KIND] = kind; words[J.SCRATCH] = scratch; words[J.SCRATCH_BYTES] = scratchBytes;
    Atomics.store(words, J.FINISHED, 0);
    Atomics.store(words, J.HELPED, 0);
    Atomics.store(words, J.WORD, nTasks << 16);
    if (parallel && nTasks > 1) this.wake();
    this.exports.job_run(this.job, 0);
    this.waitFinished(words, nTasks);
    this.workerTasks += Atomics.load(words, J.HELPED);
  }

  private wake(): void {
    if (this.workers.length === 0) this.startWorkers();
    const ctrl = new Int32Array(this.memory.buffer, this.ctrl, 8);
    Atomics.add(ctrl, SEQ, 1);
    Atomics.notify(ctrl, SEQ);
  }

  private waitFinished(words: Int32Array, nTasks: number): void {
    const ctrl = new Int32Array(this.memory.buffer, this.ctrl, 8);
    let spins = 0;
    for (;;) {
      const finished = Atomics.load(words, J.FINISHED);
      if (finished >= nTasks) return;
      if (Atomics.load(ctrl, ERROR)) {
        Atomics.store(ctrl, ERROR, 0);
        throw new EngineError('gemm', 'a wasm worker thread failed while running a task');
      }
      if (++spins < 2000) continue;
      Atomics.wait(words, J.FINISHED, finished, 20);
    }
  }

  private startWorkers(): void {
    for (let tid = 1; tid < this.threads; tid++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true, execArgv: [],
        workerData: { module: this.module, memory: this.memory, ctrl: this.ctrl, job: this.job, tid,
          stackTop: this.ctrl + 256 + STACK_BYTES * tid },
      });
      worker.on('error', () => { /* reported through the ERROR word; the calling thread finishes the tasks */ });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** Worker threads that have instantiated the module and wait for jobs. */
  readyWorkers(): number { return Atomics.load(new Int32Array(this.memory.buffer, this.ctrl, 8), READY); }

  /** Starts the workers now instead of at the first large GEMM. */
  startThreads(): void { if (this.workers.length === 0 && this.threads > 1) this.startWorkers(); }

  /** Stops the workers (tests; otherwise they are unref'd and end with the process). */
  async close(): Promise<void> {
    const ctrl = new Int32Array(this.memory.buffer, this.ctrl, 8);
    Atomics.store(ctrl, QUIT, 1);
    Atomics.add(ctrl, SEQ, 1);
    Atomics.notify(ctrl, SEQ);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
    this.workers = [];
    Atomics.store(ctrl, QUIT, 0);
  }

  private ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    this.memory.grow(Math.ceil((bytes - have) / PAGE));
    this.refresh();
  }

  private refresh(): void {
    this.f32 = new Float32Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }
}

/** Threads for the wasm GEMM: RLAIF_WASM_THREADS, else the machine's cores (at most 8). */
export function defaultWasmThreads(): number {
  return engineEnvironment().wasmThreads ?? availableParallelism();
}

/**
 * Cuts each (M, N) product into mTiles x nTiles tasks, at least `want` in all when the shape allows, choosing the
 * cut that packs the least: every task packs its own rows of A (mTask x K) and columns of B (K x nTask).
 */
function planTiles(M: number, N: number, batch: number, want: number) {
  const minTiles = Math.ceil(N / N_TASK_MAX);
  let best = { mTask: M, nTask: N, mTiles: 1, nTiles: 1, cost: Infinity };
  for (let tryTiles = minTiles; tryTiles <= Math.max(minTiles, want); tryTiles++) {
    const nTask = Math.min(roundUp(Math.ceil(N / tryTiles), NR), N_TASK_MAX), nTiles = Math.ceil(N / nTask);
    const mSplit = Math.ceil(want / (batch * nTiles));
    const mTask = Math.min(M, Math.max(8 * MR, roundUp(Math.ceil(M / mSplit), MR))), mTiles = Math.ceil(M / mTask);
    const cost = nTiles * M + mTiles * N;
    if (cost < best.cost) best = { mTask, nTask, mTiles, nTiles, cost };
  }
  return best;
}

function describe(x: unknown): string {
  return x === null || typeof x !== 'object' ? String(x) : (x as object).constructor?.name ?? 'object';
}
function align(x: number, to: number): number { return Math.ceil(x / to) * to; }
function roundUp(x: number, to: number): number { return Math.ceil(x / to) * to; }
