// Data for `rlaif train sft|reward|dpo` on the built-in digit-task model: JSONL files in a small documented schema
// (errors name the file, line and field) or built-in synthetic sets when no file is given. Text data for checkpoint
// models goes through their tokenizer in train-model.ts; here prompts and responses must be digit strings.
//
//   SFT JSONL, one object a line:         {"prompt": "", "response": "012345"}
//   Preference JSONL (TRL standard form): {"prompt": "", "chosen": "013579", "rejected": "975310", "label": 0.9}
//     label (optional) = P(chosen ≻ rejected), the labeler's soft label; omitted = 1 (hard label).
import { z } from 'zod';
import type { TokenPreferencePair } from '../algorithms/preference-pairs.ts';
import type { SftExample } from '../algorithms/sft-trainer.ts';
import { BOS, digitPreferencePairs, encodeDigits, EOS, randomDigits } from '../testbed/digit-task.ts';
import { readJsonl } from '../data/jsonl-file.ts';
import { Rng } from '../engine/index.ts';

const digits = z.string().regex(/^[0-9]*$/, 'must be a string of digits 0-9 (the built-in model\'s vocabulary)');
const sftLineSchema = z.strictObject({ prompt: digits.default(''), response: digits.min(1) });
const preferenceLineSchema = z.looseObject({ prompt: digits.default(''), chosen: digits.min(1), rejected: digits.min(1), label: z.number().min(0).max(1).optional() });

function parseLine<T>(schema: z.ZodType<T>, value: unknown, path: string, line: number): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.');
    throw new Error(`${path}:${line}: field '${field || '(root)'}': ${issue.message}`);
  }
  return parsed.data;
}

const promptTokens = (text: string): Int32Array => Int32Array.from([BOS, ...encodeDigits(text)]);
const responseTokens = (text: string): Int32Array => Int32Array.from([...encodeDigits(text), EOS]);

export function readSftExamples(path: string): SftExample[] {
  const lines = readJsonl(path);
  if (lines.length === 0) throw new Error(`${path}: no examples`);
  return lines.map(({ line, value }) => {
    const row = parseLine(sftLineSchema, value, path, line);
    return { prompt: promptTokens(row.prompt), response: responseTokens(row.response) };
  });
}

export function readPreferencePairs(path: string): TokenPreferencePair[] {
  const lines = readJsonl(path);
  if (lines.length === 0) throw new Error(`${path}: no pairs`);
  return lines.map(({ line, value }) => {
    const row = parseLine(preferenceLineSchema, value, path, line);
    return { prompt: promptTokens(row.prompt), chosen: responseTokens(row.chosen), rejected: responseTokens(row.rejected), label: row.label };
  });
}

/** Built-in SFT set: sorted six-digit strings (teaches the digit model the target format). */
export function syntheticSftExamples(count: number, seed: number): SftExample[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => ({ prompt: Int32Array.of(BOS), response: responseTokens([...randomDigits(rng)].sort().join('')) }));
}

/** Built-in preference set: the more sorted of two random digit strings is chosen. */
export function syntheticPreferencePairs(count: number, seed: number): TokenPreferencePair[] {
  return digitPreferencePairs(count, seed);
}
