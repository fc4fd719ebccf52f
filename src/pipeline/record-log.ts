// One append-only JSONL file of records keyed by a deterministic id: idempotent appends (an id already present is not
// written again), a torn last line (a write cut short by kill -9) detected and dropped on open, a corrupt line
// elsewhere an error naming file:line. Durability: every append is one write(2) loop to the kernel, so a killed
// process loses nothing it appended; `sync()` fsyncs (the loop calls it at each stage's end) for power loss.
// Leaves out concurrent writers (the run folder's single owner writes) and compaction. No paper.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface LoggedRecord {
  id: string; // deterministic: the same work always gets the same id
}

export interface OpenReport {
  records: number;     // complete records read
  droppedBytes: number; // bytes of a torn last line cut off (0 when the file ended cleanly)
}

export class RecordLog<R extends LoggedRecord> {
  readonly path: string;
  readonly opened: OpenReport;
  readonly #records = new Map<string, R>();
  readonly #order: R[] = [];
  #descriptor: number | null;
  #dirty = false;

  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
    let validBytes = 0, droppedBytes = 0;
    if (existsSync(path)) {
      const buffer = readFileSync(path);
      validBytes = buffer.lastIndexOf(0x0a) + 1;      // bytes after the last newline are a torn write
      const lines = buffer.subarray(0, validBytes).toString('utf8').split('\n');
      lines.pop();                                     // '' after the final newline
      // A complete last line that does not parse is also torn (a write that stopped right after a newline inside it
      // cannot happen: JSON.stringify escapes newlines), so only the last line may be dropped; others are corruption.
      for (const [index, line] of lines.entries()) {
        let record: R;
        try {
          record = JSON.parse(line) as R;
          if (typeof record?.id !== 'string') throw new Error('no string field "id"');
        } catch (error) {
          if (index === lines.length - 1) {
            const tail = Buffer.byteLength(line, 'utf8') + 1;
            validBytes -= tail;
            droppedBytes += tail;
            break;
          }
          throw new Error(`${path}:${index + 1}: corrupt record (${(error as Error).message}); the file is append-only, so this is not a torn write — inspect it by hand`);
        }
        if (!this.#records.has(record.id)) this.#order.push(record);
        this.#records.set(record.id, record);
      }
      droppedBytes += buffer.length - (validBytes + droppedBytes);
      if (droppedBytes > 0) truncateSync(path, validBytes);
    }
    this.opened = { records: this.#order.length, droppedBytes };
    this.#descriptor = openSync(path, 'a');
  }

  get size(): number { return this.#order.length; }
  has(id: string): boolean { return this.#records.has(id); }
  get(id: string): R | undefined { return this.#records.get(id); }
  all(): readonly R[] { return this.#order; }

  /** Appends the record unless its id is present; returns whether it was written. */
  append(record: R): boolean {
    if (this.#descriptor === null) throw new Error(`${this.path}: log is closed`);
    if (this.#records.has(record.id)) return false;
    const bytes = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    for (let offset = 0; offset < bytes.length;) offset += writeSync(this.#descriptor, bytes, offset, bytes.length - offset);
    this.#records.set(record.id, record);
    this.#order.push(record);
    this.#dirty = true;
    return true;
  }

  /** fsync: what was appended survives a power loss too. */
  sync(): void {
    if (this.#descriptor !== null && this.#dirty) fsyncSync(this.#descriptor);
    this.#dirty = false;
  }

  close(): void {
    if (this.#descriptor === null) return;
    this.sync();
    closeSync(this.#descriptor);
    this.#descriptor = null;
  }
}
