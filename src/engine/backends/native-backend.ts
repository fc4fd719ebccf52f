// The native backend: adapts the C addon (build/Release/rlaif_native.node, built by `npm install`) to Backend.
// The addon validates every argument before touching memory and throws "op: ..."; here those become EngineError.
// Leaves out: building the addon (scripts/build-native.mjs) and the kernels themselves (native/*.c).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AttentionParams, type Backend, EngineError, type GemmParams } from '../backend.ts';
import { autotuneEnabled, tuneAtFirstUse } from '../autotune.ts';
import { blockingFromEnv, gemmKernelFromEnv, gemmSplitFromEnv, POOL_LADDERS, type PoolThresholds, poolThresholdsFromEnv, readTuning, searchAgain, tuningFile } from '../tuning.ts';
import { engineEnvironment } from './environment.ts';

export type CpuLevel = 'avx512' | 'avx2' | 'generic';

type F32 = Float32Array;
type I32 = Int32Array;

/** The addon's kernels for one CPU level: Backend's methods with flattened arguments. */
interface NativeKernels {
  cpu: CpuLevel;
  threads: number;
  mr: number; nr: number; mc: number; kc: number; nc: number;
  gemmKernel: CpuLevel;
  bf16: Bf16Kernel;
  bf16Gemm: Bf16Gemm;
  gemm(a: F32, b: F32, c: F32, M: number, N: number, K: number, transA: boolean, transB: boolean, alpha: number,
    beta: number, batch: number, strideA: number, strideB: number, strideC: number, sumsB: F32 | null,
    biasC: F32 | null): void;
  gemmMixed(a: F32, b: F32, c: F32, M: number, N: number, K: number, transA: boolean, transB: boolean, alpha: number,
    beta: number, batch: number, strideA: number, strideB: number, strideC: number, sumsB: F32 | null,
    biasC: F32 | null): void;
  attention(q: F32, k: F32, v: F32, out: F32, probs: F32, B: number, H: number, Hkv: number, T: number, S: number,
    D: number, causal: boolean, scale: number, keyMask: F32 | null, keyCapacity: number | null, W: number | null,
    q0: number, k0: number, v0: number): void;
  attentionBackward(q: F32, k: F32, v: F32, probs: F32, dout: F32, dq: F32, dk: F32, dv: F32, B: number, H: number,
    Hkv: number, T: number, S: number, D: number, causal: boolean, scale: number, keyMask: F32 | null,
    keyCapacity: number | null, W: number | null, q0: number, k0: number, v0: number): void;
  [kernel: string]: unknown;
}

/** How the bf16 GEMV runs: `vdpbf16ps` (AVX512_BF16) or `widen` (bf16 → float32 in registers, then FMA). */
export type Bf16Kernel = 'vdpbf16ps' | 'widen';
/** The bf16 GEMMs past a few rows (generation's, mixed-precision training's): AMX tiles where the CPU has AMX-BF16
 * (RLAIF_AMX=0 turns them off; =emulate computes the AMX layout in C, for tests), vdpbf16ps, or widen + fp32 GEMM. */
export type Bf16Gemm = 'amx' | 'amx-emulated' | 'vdpbf16ps' | 'widen';

interface NativeAddon {
  create(level?: CpuLevel, nativeBf16?: boolean): NativeKernels;
  setBlocking(level: CpuLevel, mc: number, kc: number, nc: number): void;
  setGemmKernel(level: CpuLevel, kernel: CpuLevel): void;
  setGemmSplit(tasksPerThread: number): void;
  gemmSplit(): number;
  setPoolThresholds(general: number, fewRows: number, stream?: number): void;
  poolThresholds(): [number, number, number];
  levels(): CpuLevel[];
  features(): Record<string, boolean>;
}

/** GEMM blocking of one CPU level: register tile mr x nr of the micro-kernel compiled for level `kernel` (the level's
 * own, or a lower one's), cache blocks mc (rows of A), kc (depth), nc (columns of B). */
export interface GemmBlocking { kernel: CpuLevel; mr: number; nr: number; mc: number; kc: number; nc: number }

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const NATIVE_ADDON_PATH = join(root, 'build', 'Release', 'rlaif_native.node');
const addonPath = NATIVE_ADDON_PATH;
let addon: NativeAddon | null = null;

function loadAddon(): NativeAddon {
  if (addon) return addon;
  if (!existsSync(addonPath)) {
    throw new Error(`native addon missing at ${addonPath}; build it with \`npm run build:native\` (needs g++)`);
  }
  addon = createRequire(import.meta.url)(addonPath) as NativeAddon;
  return addon;
}

/** CPU levels this machine can run, best first (throws when the addon is not built). */
export function nativeCpuLevels(): CpuLevel[] {
  return loadAddon().levels();
}

/** The CPU features the kernels dispatch on, as this CPU and OS report them (__builtin_cpu_supports). */
export function nativeCpuFeatures(): Record<string, boolean> {
  return loadAddon().features();
}

/** Where a level's GEMM blocking (and micro-kernel) came from: compiled default, this machine's tuning cache (busy:
 * the compiled default it recorded because other work disturbed its search), or RLAIF_GEMM_BLOCKING /
 * RLAIF_GEMM_KERNEL (either set: the tuned choice is not used). */
export type BlockingSource = 'default' | 'tuned' | 'busy' | 'RLAIF_GEMM_BLOCKING' | 'RLAIF_GEMM_KERNEL';
const blockingSources = new Map<CpuLevel, BlockingSource>();

/**
 * Applies a level's blocking once per process, before its first kernel object: RLAIF_GEMM_BLOCKING, else this
 * machine's entry in the tuning cache (tuning.ts), searched for at first use when there is none (autotune.ts), else
 * the compiled default. Bad values are errors naming their source.
 */
function applyBlocking(addon: NativeAddon, level: CpuLevel): BlockingSource {
  const known = blockingSources.get(level);
  if (known) return known;
  let source: BlockingSource = 'default';
  // every variable read (and checked) before minutes of search
  const forced = blockingFromEnv(), forcedKernel = gemmKernelFromEnv(), forcedSplit = gemmSplitFromEnv(), forcedPool = poolThresholdsFromEnv();
  let entry = readTuning(level);
  // first use: the whole search when this CPU has no entry, or one from before the split search or (where there is one
  // to make) the micro-kernel choice; the pool's alone for an entry written before the pool search (or its stream
  // threshold, or the threads it ran with) existed, one measured on older ladders (POOL_LADDERS), or one measured on
  // a single thread (no pool to measure: the compiled thresholds) where this process may run on several CPUs. The
  // split, like the pool thresholds, is applied whatever else is forced.
  // A search that other work disturbed (busyCpus: its compiled defaults recorded) is made again, up to TUNE_SEARCHES.
  const stale = (e: NonNullable<typeof entry>) => (e.kernel === undefined && nativeGemmKernels(level).length > 1) || e.split === undefined || searchAgain(e);
  const stalePool = (pool: NonNullable<typeof entry>['pool']) => !pool || pool.stream === undefined || pool.threads === undefined || (pool.threads < 2 && availableParallelism() >= 2)
    || (pool.ladders ?? 1) < POOL_LADDERS || searchAgain(pool);
  const search = !entry || stale(entry) ? (forced || forcedKernel ? null : 'all') : stalePool(entry.pool) && !forcedPool ? 'pool' : null;
  if (search && autotuneEnabled() && tuneAtFirstUse(level, tuningFile(), search)) entry = readTuning(level);
  /** Runs one setter; its error names where the value came from: the variable when `variable` was set, else the tuning file. */
  const apply = (variable: string, fromVariable: boolean, set: () => void): void => {
    try {
      set();
    } catch (error) {
      throw new Error(`${fromVariable ? variable : tuningFile()}: ${(error as Error).message}`);
    }
  };
  const tuned = forced || forcedKernel ? null : entry;   // forced settings are never mixed with a tuned choice
  const kernel = forcedKernel ?? tuned?.kernel ?? null;
  if (kernel && kernel !== level) {
    source = forcedKernel ? 'RLAIF_GEMM_KERNEL' : 'tuned';
    apply('RLAIF_GEMM_KERNEL', forcedKernel !== null, () => addon.setGemmKernel(level, kernel));
  }
  const chosen = forced ?? tuned;
  if (chosen) {
    source = forced ? 'RLAIF_GEMM_BLOCKING' : tuned?.busyCpus !== undefined ? 'busy' : 'tuned';
    apply('RLAIF_GEMM_BLOCKING', forced !== null, () => addon.setBlocking(level, chosen.mc, chosen.kc, chosen.nc));
  }
  const split = forcedSplit ?? entry?.split;
  if (split !== undefined) {
    apply('RLAIF_GEMM_SPLIT', forcedSplit !== null, () => addon.setGemmSplit(split));
    splitSource = forcedSplit !== null ? 'RLAIF_GEMM_SPLIT' : entry?.busyCpus !== undefined ? 'busy' : 'tuned';
  }
  const pool = forcedPool ?? entry?.pool;
  if (pool) {
    apply('RLAIF_POOL_MIN_MACS', forcedPool !== null, () => setThresholds(addon, pool));
    poolSource = forcedPool ? 'RLAIF_POOL_MIN_MACS' : entry?.pool?.busyCpus !== undefined ? 'busy' : 'tuned';
  }
  blockingSources.set(level, source);
  return source;
}

/** Where the shared GEMM's split came from (process-wide, as the pool thresholds). */
export type SplitSource = 'default' | 'tuned' | 'busy' | 'RLAIF_GEMM_SPLIT';
let splitSource: SplitSource = 'default';

/** Sets the compute tasks per thread of a GEMM all threads share, for this process (the tuner's search); call only while no kernel is running. */
export function setNativeGemmSplit(tasksPerThread: number): void {
  loadAddon().setGemmSplit(tasksPerThread);
}

/** The compute tasks per thread of a GEMM all threads share, in this process. */
export function nativeGemmSplit(): number {
  return loadAddon().gemmSplit();
}

/** Where the pool thresholds came from (process-wide: the last level applied sets them). */
export type PoolSource = 'default' | 'tuned' | 'busy' | 'RLAIF_POOL_MIN_MACS';
let poolSource: PoolSource = 'default';

/** Sets the pool thresholds for this process (the tuner's search); call only while no kernel is running. */
export function setNativePoolThresholds(thresholds: PoolThresholds): void {
  setThresholds(loadAddon(), thresholds);
}

/** The addon's setter; a stream threshold left out keeps the one in force. */
function setThresholds(addon: NativeAddon, thresholds: PoolThresholds): void {
  if (thresholds.stream === undefined) addon.setPoolThresholds(thresholds.general, thresholds.fewRows);
  else addon.setPoolThresholds(thresholds.general, thresholds.fewRows, thresholds.stream);
}

/** The multiply-adds from which products go to the thread pool in this process. */
export function nativePoolThresholds(): Required<PoolThresholds> {
  const [general, fewRows, stream] = loadAddon().poolThresholds();
  return { general, fewRows, stream };
}

/** Sets a level's GEMM blocking for this process (the tuner's search); call only while no kernel is running. */
export function setNativeBlocking(level: CpuLevel, blocking: { mc: number; kc: number; nc: number }): void {
  loadAddon().setBlocking(level, blocking.mc, blocking.kc, blocking.nc);
}

/** The micro-kernels a level's GEMM may run on here: its own, and on AVX-512 the AVX2 one (the generic C one never wins). */
export function nativeGemmKernels(level: CpuLevel): CpuLevel[] {
  return level === 'avx512' && nativeCpuLevels().includes('avx2') ? ['avx512', 'avx2'] : [level];
}

/**
 * Runs a level's GEMM on `kernel`'s register micro-kernel for this process (the tuner's search), at that kernel's
 * compiled blocking; call only while no kernel is running. Products keep their bits for the same kc.
 */
export function setNativeGemmKernel(level: CpuLevel, kernel: CpuLevel): void {
  loadAddon().setGemmKernel(level, kernel);
}

/** setNativeGemmKernel, and the blocking it leaves set: `kernel`'s compiled one (its tile mr x nr among it). */
export function compiledGemmBlocking(level: CpuLevel, kernel: CpuLevel): GemmBlocking {
  const native = loadAddon();
  native.setGemmKernel(level, kernel);
  const table = native.create(level);
  return { kernel: table.gemmKernel, mr: table.mr, nr: table.nr, mc: table.mc, kc: table.kc, nc: table.nc };
}

export interface NativeBackendOptions {
  nativeBf16?: boolean;   // default true: vdpbf16ps where the CPU has AVX512_BF16; false forces the plain bf16 path
}

/** The native backend at `level`; by default the best level this CPU runs, or RLAIF_CPU when set lower. */
export function createNativeBackend(level?: CpuLevel, options: NativeBackendOptions = {}):
  Backend & { readonly cpu: CpuLevel; readonly blocking: GemmBlocking; readonly blockingSource: BlockingSource;
    readonly bf16Kernel: Bf16Kernel; readonly bf16Gemm: Bf16Gemm; readonly pool: PoolThresholds & { source: PoolSource };
    readonly split: { tasksPerThread: number; source: SplitSource } } {
  engineEnvironment(); // RLAIF_THREADS=abc would read as "unset" in C, RLAIF_CPU=sse9 as an opaque addon error
  const native = loadAddon();
  const probe = native.create(level, options.nativeBf16 ?? true);
  const source = applyBlocking(native, probe.cpu);
  const kernels = source === 'default' ? probe : native.create(probe.cpu, options.nativeBf16 ?? true);
  return new NativeBackend(kernels, source);
}

/** Attention's layout as the addon takes it: W (null: head-major) and the first columns of q, k and v. */
function layoutArgs(p: AttentionParams): [number | null, number, number, number] {
  const t = p.tokenMajor;
  return t ? [t.W, t.q, t.k, t.v] : [null, 0, 0, 0];
}

/** Rethrows the addon's "op: message" errors as EngineError; anything else passes through. */
function rethrow(error: unknown): never {
  if (error instanceof Error && (error as { code?: string }).code === 'ERR_RLAIF_KERNEL') {
    const cut = error.message.indexOf(': ');
    throw new EngineError(error.message.slice(0, cut), error.message.slice(cut + 2));
  }
  throw error;
}

type Fn = (...args: never[]) => unknown;

class NativeBackend implements Backend {
  readonly name = 'native' as const;
  readonly threads: number;
  readonly cpu: CpuLevel;
  readonly blocking: GemmBlocking;
  readonly bf16Kernel: Bf16Kernel;
  readonly bf16Gemm: Bf16Gemm;
  /** compute tasks per thread of a GEMM all threads share, and where that choice came from */
  get split(): { tasksPerThread: number; source: SplitSource } { return { tasksPerThread: nativeGemmSplit(), source: splitSource }; }
  /** the multiply-adds from which products go to the thread pool, and where that choice came from */
  get pool(): PoolThresholds & { source: PoolSource } { return { ...nativePoolThresholds(), source: poolSource }; }
  readonly blockingSource: BlockingSource;
  private readonly k: NativeKernels;

  constructor(kernels: NativeKernels, blockingSource: BlockingSource) {
    this.blockingSource = blockingSource;
    this.k = kernels;
    this.threads = kernels.threads;
    this.cpu = kernels.cpu;
    this.bf16Kernel = kernels.bf16;
    this.bf16Gemm = kernels.bf16Gemm;
    this.blocking = { kernel: kernels.gemmKernel, mr: kernels.mr, nr: kernels.nr, mc: kernels.mc, kc: kernels.kc, nc: kernels.nc };
    // Each plain kernel forwards its arguments unchanged; only gemm and attention flatten a params object.
    for (const op of PASSTHROUGH) {
      const fn = kernels[op] as (...args: unknown[]) => unknown;
      (this as unknown as Record<string, Fn>)[op] = (...args: unknown[]) => {
        try { return fn(...args); } catch (error) { return rethrow(error); }
      };
    }
  }

  gemm(p: GemmParams): void {
    try {
      this.k.gemm(p.a, p.b, p.c, p.M, p.N, p.K, p.transA, p.transB, p.alpha, p.beta, p.batch, p.strideA, p.strideB,
        p.strideC, p.sumsB ?? null, p.biasC ?? null);
    } catch (error) { rethrow(error); }
  }

  gemmMixed(p: GemmParams): void {
    try {
      this.k.gemmMixed(p.a, p.b, p.c, p.M, p.N, p.K, p.transA, p.transB, p.alpha, p.beta, p.batch, p.strideA, p.strideB,
        p.strideC, p.sumsB ?? null, p.biasC ?? null);
    } catch (error) { rethrow(error); }
  }

  attention(q: F32, k: F32, v: F32, out: F32, probs: F32, p: AttentionParams): void {
    try {
      this.k.attention(q, k, v, out, probs, p.B, p.H, p.Hkv, p.T, p.S, p.D, p.causal, p.scale, p.keyMask, p.keyCapacity ?? null,
        ...layoutArgs(p));
    } catch (error) { rethrow(error); }
  }

  attentionBackward(q: F32, k: F32, v: F32, probs: F32, dout: F32, dq: F32, dk: F32, dv: F32,
    p: AttentionParams): void {
    try {
      this.k.attentionBackward(q, k, v, probs, dout, dq, dk, dv, p.B, p.H, p.Hkv, p.T, p.S, p.D, p.causal, p.scale,
        p.keyMask, p.keyCapacity ?? null, ...layoutArgs(p));
    } catch (error) { rethrow(error); }
  }

  // Assigned in the constructor from PASSTHROUGH (declared so the class satisfies Backend).
  declare gemmBf16: Backend['gemmBf16'];
  declare biasAdd: Backend['biasAdd'];
  declare sumRowsInto: Backend['sumRowsInto'];
  declare add: Backend['add'];
  declare axpy: Backend['axpy'];
  declare gelu: Backend['gelu'];
  declare geluBackward: Backend['geluBackward'];
  declare silu: Backend['silu'];
  declare siluBackward: Backend['siluBackward'];
  declare layerNorm: Backend['layerNorm'];
  declare layerNormBackward: Backend['layerNormBackward'];
  declare rmsNorm: Backend['rmsNorm'];
  declare rmsNormBackward: Backend['rmsNormBackward'];
  declare softmax: Backend['softmax'];
  declare softmaxBackward: Backend['softmaxBackward'];
  declare logSoftmax: Backend['logSoftmax'];
  declare logSoftmaxBackward: Backend['logSoftmaxBackward'];
  declare targetLogprobs: Backend['targetLogprobs'];
  declare targetLogprobsBackward: Backend['targetLogprobsBackward'];
  declare entropy: Backend['entropy'];
  declare entropyBackward: Backend['entropyBackward'];
  declare headsLayout: Backend['headsLayout'];
  declare embedding: Backend['embedding'];
  declare embeddingBackward: Backend['embeddingBackward'];
  declare adamw: Backend['adamw'];
  declare sumSquares: Backend['sumSquares'];
  declare firstNonFinite: Backend['firstNonFinite'];
}

/** Backend methods whose arguments the addon takes as they are. */
const PASSTHROUGH = [
  'gemmBf16', 'biasAdd', 'sumRowsInto', 'add', 'axpy', 'gelu', 'geluBackward', 'silu', 'siluBackward', 'layerNorm',
  'layerNormBackward', 'rmsNorm', 'rmsNormBackward', 'softmax', 'softmaxBackward', 'logSoftmax', 'logSoftmaxBackward',
  'targetLogprobs', 'targetLogprobsBackward', 'entropy', 'entropyBackward', 'headsLayout', 'embedding', 'embeddingBackward', 'adamw',
  'sumSquares', 'firstNonFinite',
] as const satisfies readonly (keyof Backend)[];
