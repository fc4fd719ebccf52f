// What a judging run reads, checked before any request is sent: the pairs (a dataset in one of the formats, or sampled
// from a policy), each error naming the file and the config key that pointed to it; an empty dataset is an error; pairs
// far beyond any context are left out with a warning naming them. Leaves out streaming huge datasets. No paper.
import { statSync } from 'node:fs';
import { readWithDuckDb } from '../data/duckdb-format.ts';
import { readHhRlhf } from '../data/hh-rlhf-format.ts';
import { readOpenAIPreference } from '../data/openai-preference-format.ts';
import type { PreferenceRecord } from '../data/preference-record.ts';
import { readTrl } from '../data/trl-format.ts';
import type { JudgeRunConfig } from './judge-run-config.ts';
import { readSamplingPrompts, samplePairs } from './sampled-pairs.ts';

export async function readPairs(path: string, format: NonNullable<JudgeRunConfig['input']>['format']): Promise<PreferenceRecord[]> {
  switch (format) {
    case 'hh-rlhf':
      return readHhRlhf(path);
    case 'trl':
      return readTrl(path);
    case 'openai':
      return readOpenAIPreference(path);
    case 'parquet':
    case 'duckdb-jsonl':
      if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${path}: is a folder, expected a file`);
      return readWithDuckDb(path);
  }
}

/** Run `task`; an error it throws is rethrown prefixed with the config key that named the file. */
export async function underConfigKey<T>(key: string, task: () => T | Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    throw new Error(message.startsWith(`${key}: `) ? message : `${key}: ${message}`, { cause: error });
  }
}

/** Characters of text a pair would send: its prompt and both continuations. */
export function pairCharacters(record: PreferenceRecord): number {
  let total = 0;
  for (const message of [...record.prompt, ...record.chosen, ...record.rejected]) total += message.content.length;
  return total;
}

export interface LoadedPairs {
  records: PreferenceRecord[]; // to judge, in dataset order, after the limit
  tooLong: Array<{ id: string; characters: number; source: string }>; // left out: over maxPairCharacters
}

/**
 * The pairs of a run: read (or sampled), cut to the limit, pairs over `maxPairCharacters` left out. Errors name the
 * config key (`input.path`, `sample.prompts`, ...) and the file; no pair at all is an error, not "0 judged".
 */
export async function loadPairs(config: JudgeRunConfig, at: (path: string) => string, runDirectory: string, onSample?: (done: number, total: number) => void): Promise<LoadedPairs> {
  let all: PreferenceRecord[];
  if (config.input) all = await underConfigKey('input.path', () => readPairs(at(config.input!.path), config.input!.format));
  else {
    await underConfigKey('sample.prompts', () => readSamplingPrompts(at(config.sample!.prompts))); // its errors name the prompts file
    all = await underConfigKey('sample.policy', () => samplePairs(config.sample!, at, runDirectory, onSample));
  }
  const source = config.input ? `input.path ${at(config.input.path)}` : `sample.prompts ${at(config.sample!.prompts)}`;
  if (all.length === 0) throw new Error(`${source}: no pairs to judge (the file holds no records)`);
  const limit = config.input?.limit ?? config.sample?.limit;
  const limited = limit ? all.slice(0, limit) : all;
  const records: PreferenceRecord[] = [];
  const tooLong: LoadedPairs['tooLong'] = [];
  for (const record of limited) {
    const characters = pairCharacters(record);
    if (characters <= config.maxPairCharacters) records.push(record);
    else tooLong.push({ id: record.id, characters, source: record.source ? `${record.source.file}:${record.source.line}` : source });
  }
  if (records.length === 0) throw new Error(`${source}: every pair is over maxPairCharacters (${config.maxPairCharacters}); nothing to judge`);
  return { records, tooLong };
}
