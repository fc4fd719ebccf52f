// Float32 tensors with a reverse-mode autograd tape, a no-grad mode and a buffer pool.
// Ops live in ./ops; this file holds only the tensor record, the tape that orders backward calls, and memory reuse.
// Leaves out: devices, dtypes other than float32 (ids travel as Int32Array beside tensors), views with strides.
import { EngineError } from './backend.ts';
import { getBackend } from './backends/index.ts';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------------------------
// Buffer pool: Float32Arrays handed back by scopes so training loops do not churn the GC. Buffers above 1024 floats
// come in size classes a quarter of a power of two apart (waste ≤ 25%), handed out as exact-length views: a batch
// engine whose prefills see a new row count every time (16 prompts joining as 2 + 14, then 3 + 13) reuses the same
// memory instead of touching fresh pages, which cost ~4 ms a MB on a VM seen here (first-touch page faults: a c16
// serve round's prefill took 40 ms instead of 4). Arrays the pool did not make are kept when their length is a class.
// With RLAIF_POISON=1 (tests), every buffer handed out for op outputs is filled with NaN first, so a kernel that
// leaves an element unwritten is caught.

const pool = new Map<number, Float32Array[]>();
const owned = new WeakSet<ArrayBufferLike>();          // backing stores the pool allocated at a class size
let pooledBytes = 0;
const POOL_LIMIT_BYTES = 2 ** 30;
let poison = process.env.RLAIF_POISON === '1';

/** The length of the pooled buffer that serves n floats: n itself up to 1024, then 2^k·(1 + j/4) ≥ n. */
export function poolClass(n: number): number {
  if (n <= 1024) return n;
  const base = 2 ** Math.floor(Math.log2(n)), step = base / 4;
  return base + Math.ceil((n - base) / step) * step;
}

/** A pooled buffer for n floats: its class, else the next larger classes up to twice its size (fresh pages cost more
 * than the unused tail), as an exact-length view; null when none is free. */
function take(n: number): Float32Array | null {
  const first = poolClass(n), last = n <= 1024 ? first : 2 * first;
  for (let size = first; size <= last; size = poolClass(size + 1)) {
    const list = pool.get(size);
    if (!list || list.length === 0) continue;
    const buffer = list.pop()!;
    pooledBytes -= buffer.byteLength;
    return buffer.length === n ? buffer : buffer.subarray(0, n);
  }
  return null;
}

function fresh(n: number): Float32Array {
  const size = poolClass(n);
  const buffer = new Float32Array(size);
  owned.add(buffer.buffer);
  return size === n ? buffer : buffer.subarray(0, n);
}

/** Turns NaN-poisoning of freshly handed-out op outputs on or off (tests turn it on). */
export function setPoisoning(on: boolean): void {
  poison = on;
}

/** A buffer for an op output: contents undefined (NaN when poisoning). */
export function allocOutput(n: number): Float32Array {
  const buffer = take(n) ?? fresh(n);
  if (poison) buffer.fill(NaN);
  return buffer;
}

/** A zero-filled buffer (gradients, accumulators). */
export function allocZeros(n: number): Float32Array {
  const buffer = take(n);
  return buffer ? buffer.fill(0) : fresh(n);
}

function release(buffer: Float32Array): void {
  if (buffer.length === 0) return;
  // A view the pool handed out goes back as its whole class-size buffer; any other array only if it is a class size.
  const whole = owned.has(buffer.buffer) && buffer.byteOffset === 0 && buffer.length !== buffer.buffer.byteLength / 4
    ? new Float32Array(buffer.buffer) : buffer;
  if (poolClass(whole.length) !== whole.length || pooledBytes + whole.byteLength > POOL_LIMIT_BYTES) return;   // never handed out again
  let list = pool.get(whole.length);
  if (!list) { list = []; pool.set(whole.length, list); }
  list.push(whole);
  pooledBytes += whole.byteLength;
}

/** Empties the pool (frees memory to the GC). */
export function clearPool(): void {
  pool.clear();
  pooledBytes = 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Grad mode and scopes.

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn with no graph recorded (inference, reference log-probs, evaluation). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

type ScopeFrame = Tensor[];
const scopes: ScopeFrame[] = [];

/**
 * Runs fn and, when it returns, hands the buffers of every tensor created inside back to the pool, except the
 * tensors found in its result (a tensor, an array of tensors, or an object whose values are tensors). Parameters
 * created outside keep their gradients. Use one scope per training step.
 */
export function scope<T>(fn: () => T): T {
  const frame: ScopeFrame = [];
  scopes.push(frame);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    dropFromTape(new Set(frame));   // a step that failed mid-forward leaves no half graph for the next backward
    throw error;
  } finally {
    scopes.pop();
  }
  const keep = new Set<Tensor>();
  collectTensors(result, keep);
  for (const t of [...keep]) if (t.base) keep.add(t.base);
  const outer = scopes[scopes.length - 1];
  for (const t of frame) {
    if (keep.has(t)) { outer?.push(t); continue; }
    t.dispose();
  }
  return result;
}

function collectTensors(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, into);
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The tape: op outputs that need a gradient, in creation order (a valid topological order for the backward).

let tape: Tensor[] = [];

export class Tensor {
  /** Gradient of the loss with respect to this tensor, same length as data; allocated on first use. */
  grad: Float32Array | null = null;
  /** Accumulates this node's output gradient into its inputs' gradients. */
  backwardFn: (() => void) | null = null;
  parents: readonly Tensor[] = [];
  /** The op that made this tensor (for error messages), 'leaf' for parameters and inputs. */
  op = 'leaf';
  /** When set, this tensor shares data with base (reshape) and does not own its buffer. */
  base: Tensor | null = null;
  /** Buffers the op keeps for its backward (attention probabilities, norm statistics): pooled with the tensor. */
  saved: Float32Array[] | null = null;
  private disposed = false;

  constructor(
    public data: Float32Array,       // (size) row-major contents
    readonly shape: Shape,
    public requiresGrad = false,
    public name?: string,
  ) {
    if (data.length !== sizeOf(shape)) {
      throw new EngineError('tensor', `data has ${data.length} elements but shape ${shapeString(shape)} needs ${sizeOf(shape)}`);
    }
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new EngineError('tensor', `invalid shape ${shapeString(shape)}`);
    }
    scopes[scopes.length - 1]?.push(this);
  }

  get size(): number { return this.data.length; }
  get rank(): number { return this.shape.length; }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new EngineError('item', `tensor of shape ${shapeString(this.shape)} is not a scalar`);
    return this.data[0];
  }

  /** The gradient buffer, allocated zero-filled if this is its first contribution. */
  gradBuffer(): Float32Array {
    if (!this.grad) this.grad = allocZeros(this.size);
    return this.grad;
  }

  /**
   * The gradient buffer for a kernel that writes every element (a GEMM): on the first contribution a fresh buffer
   * that need not be zeroed, with beta 0 (overwrite); afterwards the accumulated buffer with beta 1.
   */
  gradForOverwrite(): { grad: Float32Array; beta: 0 | 1 } {
    if (this.grad) return { grad: this.grad, beta: 1 };
    this.grad = allocOutput(this.size);
    return { grad: this.grad, beta: 0 };
  }

  zeroGrad(): void {
    if (this.grad) this.grad.fill(0);
  }

  /** Hands data and gradient back to the pool; the tensor must not be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (!this.base) release(this.data);
    if (this.grad) release(this.grad);
    if (this.saved) for (const buffer of this.saved) release(buffer);
    this.saved = null;
    this.grad = null;
    this.backwardFn = null;
    this.parents = [];
    this.data = new Float32Array(0);
  }

  toString(): string {
    return `Tensor(${shapeString(this.shape)}, op=${this.op})`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Creation helpers.

export function tensor(data: ArrayLike<number>, shape?: Shape, requiresGrad = false): Tensor {
  const buffer = data instanceof Float32Array ? data : Float32Array.from(data);
  return new Tensor(buffer, shape ?? [buffer.length], requiresGrad);
}

export function zeros(shape: Shape, requiresGrad = false): Tensor {
  return new Tensor(allocZeros(sizeOf(shape)), shape, requiresGrad);
}

/** A parameter: a leaf that requires a gradient and is never pooled by scopes it was not created in. */
export function parameter(data: Float32Array, shape: Shape, name?: string): Tensor {
  return new Tensor(data, shape, true, name);
}

/**
 * Makes an op output. When grad mode is on and an input requires a gradient, the output joins the tape and
 * backward(out) is called during the backward pass with out.grad set.
 */
export function makeOutput(op: string, data: Float32Array, shape: Shape, parents: readonly Tensor[],
  backward?: (out: Tensor) => void, saved?: Float32Array[]): Tensor {
  const out = new Tensor(data, shape);
  out.op = op;
  if (saved) out.saved = saved; // side buffers from allocOutput: back to the pool with the output (no GC churn)
  if (gradEnabled && backward && parents.some((p) => p.requiresGrad)) {
    out.requiresGrad = true;
    out.parents = parents;
    out.backwardFn = () => backward(out);
    tape.push(out);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Backward.

export interface BackwardOptions {
  /** Seed gradient for a non-scalar output (defaults to ones). */
  gradient?: Float32Array;
  /** Check parameter gradients for NaN/Inf and name the op where they first appear (default true). */
  checkFinite?: boolean;
}

/**
 * Reverse-mode pass over the tape: accumulates d(output)/d(leaf) into every leaf's grad that requires one, then
 * clears the tape. Gradients accumulate across calls (gradient accumulation) until zeroed.
 */
export function backward(output: Tensor, options: BackwardOptions = {}): void {
  const backend = getBackend();
  if (!output.requiresGrad) {
    tape = [];
    throw new EngineError('backward', `output ${output} does not require a gradient (was it made under noGrad?)`);
  }
  if (options.gradient === undefined && output.size !== 1) {
    throw new EngineError('backward', `output of shape ${shapeString(output.shape)} is not a scalar: pass a gradient`);
  }
  const bad = backend.firstNonFinite(output.data, output.size);
  if (bad >= 0) {
    const nodes = tape;
    tape = [];
    throw new EngineError('backward', `the loss is ${output.data[bad]} (from op ${output.op}, shape ${shapeString(output.shape)})${describeFirstNonFinite(nodes)}`);
  }
  const seed = output.gradBuffer();
  if (options.gradient) {
    if (options.gradient.length !== output.size) {
      throw new EngineError('backward', `gradient has ${options.gradient.length} elements, output ${shapeString(output.shape)} has ${output.size}`);
    }
    for (let i = 0; i < seed.length; i++) seed[i] += options.gradient[i];
  } else {
    seed[0] += 1;
  }
  const nodes = tape;
  tape = [];
  const leaves = new Set<Tensor>();
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (node.grad && node.backwardFn) node.backwardFn();
    for (const p of node.parents) if (p.requiresGrad && !p.backwardFn && p.grad) leaves.add(p);
  }
  if (options.checkFinite !== false) {
    for (const leaf of leaves) {
      if (backend.firstNonFinite(leaf.grad!, leaf.size) >= 0) {
        const where = describeNonFiniteGradient(nodes);
        for (const node of nodes) { node.backwardFn = null; node.parents = []; }
        throw new EngineError('backward', `gradient of ${leaf.name ?? 'a leaf'} ${shapeString(leaf.shape)} has NaN/Inf${where}`);
      }
    }
  }
  for (const node of nodes) { node.backwardFn = null; node.parents = []; }
}

function dropFromTape(nodes: Set<Tensor>): void {
  for (const node of tape) if (nodes.has(node)) { node.backwardFn = null; node.parents = []; }
  tape = tape.filter((node) => !nodes.has(node));
}

function describeFirstNonFinite(nodes: Tensor[]): string {
  const backend = getBackend();
  for (const node of nodes) {
    if (node.data.length > 0 && backend.firstNonFinite(node.data, node.size) >= 0) {
      const inputs = node.parents.map((p) => `${p.op}${shapeString(p.shape)}`).join(', ');
      return `; NaN/Inf first appears in the output of ${node.op} ${shapeString(node.shape)} (inputs: ${inputs})`;
    }
  }
  return '';
}

function describeNonFiniteGradient(nodes: Tensor[]): string {
  const backend = getBackend();
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    for (const p of node.parents) {
      if (p.grad && backend.firstNonFinite(p.grad, p.size) >= 0 && node.grad && backend.firstNonFinite(node.grad, node.size) < 0) {
        return `; it first appears in the backward of ${node.op} ${shapeString(node.shape)} into its input ${p.op}${shapeString(p.shape)}`;
      }
    }
  }
  return describeFirstNonFinite(nodes);
}
