// The run store: one folder per run — the frozen config (config.json), one append-only JSONL record file per kind
// under records/ (run-records.ts), checkpoints/ — and the trace from any reward back to its prompt. Writes are
// idempotent by deterministic id and crash-safe (record-log.ts); `commit()` fsyncs every file at a stage's end.
// DuckDB reads the files (run-store-sql.ts). Leaves out multi-process writers and Parquet compaction. No paper.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../feedback/stable-hash.ts';
import { RecordLog } from './record-log.ts';
import {
  RECORD_FILES, type JudgmentRecord, type PromptRecord, type RecordKind, type RewardRecord, type RunRecord, type SampleRecord,
} from './run-records.ts';

type OfKind<K extends RecordKind> = Extract<RunRecord, { kind: K }>;

export interface RewardTrace {
  reward: RewardRecord;
  judgments: JudgmentRecord[];   // each with its rationale and principle
  samples: SampleRecord[];       // the rewarded sample first, then the ones it was compared with
  prompt: PromptRecord;
}

export class RunStore {
  readonly dir: string;
  readonly #logs = new Map<RecordKind, RecordLog<RunRecord>>();

  private constructor(dir: string) {
    this.dir = dir;
    for (const kind of Object.keys(RECORD_FILES) as RecordKind[]) this.#logs.set(kind, new RecordLog(join(dir, 'records', RECORD_FILES[kind])));
  }

  /**
   * Opens (or creates) the run folder. The config is frozen at the first open; opening again with a different config
   * is an error (a resume must run the same job), naming the first differing key.
   */
  static open(dir: string, config: unknown): RunStore {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'config.json');
    const text = `${JSON.stringify(config, null, 2)}\n`;
    if (existsSync(path)) {
      const previous = JSON.parse(readFileSync(path, 'utf8')) as unknown;
      if (canonicalJson(previous) !== canonicalJson(config)) {
        throw new Error(`${path}: this run folder holds a run with another config (first difference at '${firstDifference(previous, config)}'); resume with the same config or use another --out`);
      }
    } else {
      writeFileSync(`${path}.tmp`, text);
      renameSync(`${path}.tmp`, path);
    }
    return new RunStore(dir);
  }

  static config(dir: string): unknown {
    return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as unknown;
  }

  /** Records dropped as torn on open, per file (a kill -9 mid-write). */
  droppedOnOpen(): Record<string, number> {
    return Object.fromEntries([...this.#logs].filter(([, log]) => log.opened.droppedBytes > 0).map(([kind, log]) => [kind, log.opened.droppedBytes]));
  }

  checkpointDir(round: number): string {
    return join(this.dir, 'checkpoints', `round-${round}`);
  }

  /** Appends unless the id is present (idempotent); returns whether it was written. */
  put(record: RunRecord): boolean {
    return this.#logs.get(record.kind)!.append(record);
  }

  get<K extends RecordKind>(kind: K, id: string): OfKind<K> | undefined {
    return this.#logs.get(kind)!.get(id) as OfKind<K> | undefined;
  }

  all<K extends RecordKind>(kind: K): readonly OfKind<K>[] {
    return this.#logs.get(kind)!.all() as readonly OfKind<K>[];
  }

  count(kind: RecordKind): number {
    return this.#logs.get(kind)!.size;
  }

  /** fsync every record file: what was put survives a power loss. Called at the end of each stage. */
  commit(): void {
    for (const log of this.#logs.values()) log.sync();
  }

  close(): void {
    for (const log of this.#logs.values()) log.close();
  }

  /** reward → judgments (rationale, principle) → samples → prompt; an id that leads nowhere is an error naming it. */
  trace(rewardId: string): RewardTrace {
    const reward = this.get('reward', rewardId);
    if (!reward) throw new Error(`${this.dir}: no reward record '${rewardId}'`);
    const judgments = reward.parents.map((id) => this.get('judgment', id)).filter((j): j is JudgmentRecord => j !== undefined);
    const sampleIds = [...new Set([...reward.parents, ...judgments.flatMap((j) => j.parents)])];
    const samples = sampleIds.map((id) => this.get('sample', id)).filter((s): s is SampleRecord => s !== undefined);
    const own = samples[0];
    if (!own) throw new Error(`${this.dir}: reward '${rewardId}' names no sample`);
    const prompt = this.get('prompt', own.parents[0]!);
    if (!prompt) throw new Error(`${this.dir}: sample '${own.id}' names a missing prompt '${own.parents[0]}'`);
    return { reward, judgments, samples, prompt };
  }
}

function firstDifference(a: unknown, b: unknown, path = ''): string {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
    for (const key of keys) {
      const left = (a as Record<string, unknown>)[key], right = (b as Record<string, unknown>)[key];
      if (canonicalJson(left) !== canonicalJson(right)) return firstDifference(left, right, path ? `${path}.${key}` : key);
    }
  }
  return path || '(root)';
}
