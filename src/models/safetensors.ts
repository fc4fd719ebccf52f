// Reads and writes safetensors files (8-byte header length, JSON header, raw little-endian tensor bytes).
// F32/F16/BF16 on disk, float32 in memory; the reader is lazy (one tensor's bytes at a time, nothing read twice)
// and checks every header field before touching data. Leaves out: integer and float8 tensors, memory mapping.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './float-formats.ts';

/** An error in a checkpoint file, naming the file and (when there is one) the tensor. */
export class CheckpointError extends Error {
  constructor(readonly file: string, readonly tensor: string | undefined, message: string) {
    super(`${file}${tensor === undefined ? '' : `: tensor '${tensor}'`}: ${message}`);
    this.name = 'CheckpointError';
  }
}

/** `action()`, or a CheckpointError naming `file`: "<what> (<why it failed>)". */
export function orCheckpointError<T>(file: string, what: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    throw new CheckpointError(file, undefined, `${what} (${(error as Error).message})`);
  }
}

export type StoredDtype = 'F32' | 'F16' | 'BF16';

/** Bytes per element of every dtype the format names (so any valid header parses, even if we cannot convert). */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8,
};

/** Largest header we accept: real checkpoints have headers of a few hundred KB. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;   // byte offset of the first element, from the start of the data section
  end: number;     // one past the last byte
}

export interface LoadedTensor {
  dtype: string;       // dtype on disk
  shape: number[];
  data: Float32Array;  // (prod(shape)) row-major, converted to float32
}

/** Anything with a shape and float32 data: an engine Tensor or a plain record. */
export interface TensorLike {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Parses and checks a header; `dataBytes` is the size of the data section. Exported for tests. */
export function parseHeader(file: string, headerText: string, dataBytes: number):
  { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  const json: unknown = orCheckpointError(file, 'header is not valid JSON', () => JSON.parse(headerText));
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new CheckpointError(file, undefined, 'header is not a JSON object');
  }
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new CheckpointError(file, undefined, '__metadata__ is not an object');
      }
      metadata = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)]));
      continue;
    }
    const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!entry || typeof entry !== 'object') throw new CheckpointError(file, name, 'header entry is not an object');
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      throw new CheckpointError(file, name, `unknown dtype ${JSON.stringify(dtype)}`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new CheckpointError(file, name, `invalid shape ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new CheckpointError(file, name, `invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataBytes) {
      throw new CheckpointError(file, name,
        `data_offsets [${begin}, ${end}] out of range: the data section holds ${dataBytes} bytes (file truncated?)`);
    }
    const expected = elementCount(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      throw new CheckpointError(file, name, `data_offsets span ${end - begin} bytes but ${dtype} ` +
        `[${shape.join(', ')}] needs ${expected}`);
    }
    tensors.set(name, { name, dtype, shape: shape as number[], begin, end });
  }
  const sorted = [...tensors.values()].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      throw new CheckpointError(file, sorted[i].name,
        `bytes [${sorted[i].begin}, ${sorted[i].end}] overlap tensor '${sorted[i - 1].name}'`);
    }
  }
  return { tensors, metadata };
}

function readFully(fd: number, target: Uint8Array, position: number, file: string, tensor?: string): void {
  let done = 0;
  while (done < target.length) {
    const chunk = Math.min(target.length - done, 1 << 30);
    const n = readSync(fd, target, done, chunk, position + done);
    if (n === 0) throw new CheckpointError(file, tensor, `unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

/**
 * A safetensors file opened for lazy reading: the header is parsed and checked on open; each `read(name)` reads
 * that tensor's bytes once, straight into its float32 result (F32) or a 16-bit staging buffer (F16/BF16).
 */
export class SafetensorsReader {
  readonly tensors: Map<string, TensorInfo>;
  readonly metadata: Record<string, string>;
  private fd: number | null;
  private readonly dataStart: number;

  constructor(readonly path: string) {
    if (endianness() !== 'LE') throw new CheckpointError(path, undefined, 'big-endian hosts are not supported');
    const fd = orCheckpointError(path, 'cannot open', () => openSync(path, 'r'));
    try {
      const size = fstatSync(fd).size;
      if (size < 8) throw new CheckpointError(path, undefined, `file is ${size} bytes, too short for a header length`);
      const lengthBytes = new Uint8Array(8);
      readFully(fd, lengthBytes, 0, path);
      const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
      if (headerLength > BigInt(MAX_HEADER_BYTES)) {
        throw new CheckpointError(path, undefined, `header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte cap`);
      }
      if (headerLength > BigInt(size - 8)) {
        throw new CheckpointError(path, undefined, `header length ${headerLength} is larger than the file (${size} bytes): truncated?`);
      }
      const headerBytes = new Uint8Array(Number(headerLength));
      readFully(fd, headerBytes, 8, path);
      this.dataStart = 8 + headerBytes.length;
      const parsed = parseHeader(path, new TextDecoder('utf-8').decode(headerBytes), size - this.dataStart);
      this.tensors = parsed.tensors;
      this.metadata = parsed.metadata;
      this.fd = fd;
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  get names(): string[] { return [...this.tensors.keys()]; }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw new CheckpointError(this.path, name, 'not in this file');
    return info;
  }

  /** Reads one tensor, converted to float32; NaN or ±Infinity anywhere in it is an error naming the file and tensor. */
  read(name: string): LoadedTensor {
    const info = this.info(name);
    if (this.fd === null) throw new CheckpointError(this.path, name, 'reader is closed');
    const n = elementCount(info.shape);
    const position = this.dataStart + info.begin;
    let data: Float32Array;
    if (info.dtype === 'F32') {
      data = new Float32Array(n);
      readFully(this.fd, new Uint8Array(data.buffer), position, this.path, name);
    } else if (info.dtype === 'BF16' || info.dtype === 'F16') {
      const bits = new Uint16Array(n);
      readFully(this.fd, new Uint8Array(bits.buffer), position, this.path, name);
      data = info.dtype === 'BF16' ? bf16ToF32(bits) : f16ToF32(bits);
    } else {
      throw new CheckpointError(this.path, name, `dtype ${info.dtype} is not supported (F32, F16, BF16 are)`);
    }
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      let count = 0;
      for (const v of data) if (!Number.isFinite(v)) count++;
      throw new CheckpointError(this.path, name, `${count} of ${n} values are NaN or ±Infinity (first at index ${bad}: ` +
        `${data[bad]}); the weights are corrupt or came from a diverged run`);
    }
    return { dtype: info.dtype, shape: [...info.shape], data };
  }

  /**
   * Reads one tensor as bfloat16 bits: a BF16 tensor's bytes go straight into the result (no float32 copy); F32 and
   * F16 ones are converted (round to nearest even) through a float32 buffer of that one tensor.
   */
  readBf16(name: string): Uint16Array {
    const info = this.info(name);
    if (this.fd === null) throw new CheckpointError(this.path, name, 'reader is closed');
    if (info.dtype !== 'BF16') return f32ToBf16(this.read(name).data);
    const bits = new Uint16Array(elementCount(info.shape));
    readFully(this.fd, new Uint8Array(bits.buffer), this.dataStart + info.begin, this.path, name);
    let count = 0, first = -1;
    for (let i = 0; i < bits.length; i++) {
      if ((bits[i] & 0x7f80) === 0x7f80) { count++; if (first < 0) first = i; }  // exponent all ones: NaN or ±Infinity
    }
    if (count > 0) {
      throw new CheckpointError(this.path, name, `${count} of ${bits.length} values are NaN or ±Infinity (first at index ${first}); ` +
        'the weights are corrupt or came from a diverged run');
    }
    return bits;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Opens a file for lazy reading; close it when done. */
export function openSafetensors(path: string): SafetensorsReader {
  return new SafetensorsReader(path);
}

/** Reads every tensor of a file (each tensor's bytes read once). */
export function readSafetensors(path: string): { tensors: Map<string, LoadedTensor>; metadata: Record<string, string> } {
  const reader = new SafetensorsReader(path);
  try {
    const tensors = new Map<string, LoadedTensor>();
    for (const name of reader.names) tensors.set(name, reader.read(name));
    return { tensors, metadata: reader.metadata };
  } finally {
    reader.close();
  }
}

function encode(values: Float32Array, dtype: StoredDtype): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bits = dtype === 'BF16' ? f32ToBf16(values) : f32ToF16(values);
  return new Uint8Array(bits.buffer);
}

/**
 * Writes tensors to `path` atomically (a temporary file in the same folder, fsynced, then renamed over the target).
 * Metadata defaults to {format: 'pt'}, which Hugging Face transformers requires to load the file.
 */
export function writeSafetensors(path: string, tensors: Map<string, TensorLike>,
  metadata: Record<string, string> = { format: 'pt' }, dtype: StoredDtype = 'F32'): void {
  if (!['F32', 'F16', 'BF16'].includes(dtype)) throw new CheckpointError(path, undefined, `cannot write dtype ${dtype}`);
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const bytesPer = dtype === 'F32' ? 4 : 2;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new CheckpointError(path, name, 'reserved name');
    const n = elementCount(t.shape);
    if (t.data.length !== n) {
      throw new CheckpointError(path, name, `data has ${t.data.length} elements but shape [${t.shape.join(', ')}] needs ${n}`);
    }
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + n * bytesPer] };
    offset += n * bytesPer;
  }
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - (Buffer.byteLength(headerText) % 8)) % 8);   // data starts 8-byte aligned
  const headerBytes = Buffer.from(headerText, 'utf-8');
  const lengthBytes = Buffer.alloc(8);
  lengthBytes.writeBigUInt64LE(BigInt(headerBytes.length));

  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(temporary, 'w');
  let open = true;
  try {
    writeSync(fd, lengthBytes);
    writeSync(fd, headerBytes);
    for (const t of tensors.values()) {
      const bytes = encode(t.data, dtype);
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30));
    }
    fsyncSync(fd);
    closeSync(fd);
    open = false;
    renameSync(temporary, path);
  } catch (error) {
    if (open) closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
}
