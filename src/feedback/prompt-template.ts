// Loads versioned judge prompt templates shipped as YAML files beside this one, or from a user directory that overrides them.
// Leaves out any templating language beyond {{name}} substitution: unknown or missing placeholders are errors.
// Templates follow Lee et al. 2023 (arXiv 2309.00267), Yuan et al. 2024 (arXiv 2401.10020) and Bai et al. 2022 (arXiv 2212.08073).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseYamlFile } from './yaml-file.ts';

// '-direct' templates ask for the verdict in the context itself, with no rationale step (no chain-of-thought).
export const templateNames = ['pairwise', 'pairwise-direct', 'pointwise', 'pointwise-direct', 'rubric', 'critique-revision'] as const;
export type TemplateName = (typeof templateNames)[number];

const templateFileSchema = z.strictObject({
  name: z.enum(templateNames),
  version: z.string().min(1).describe('bumped whenever the wording changes; part of the cache key'),
  preamble: z.string().min(1),
  context: z.string().min(1),
  verdictRequest: z.string().optional(),
  fewShotExample: z.string().optional(),
  verdictTokens: z.array(z.string().min(1)).optional(),
  referenceLabel: z.string().min(1).default('Reference answer').describe('the label before a judgment input\'s reference text (a reference answer, retrieved notes)'),
});

export interface PromptTemplate extends Readonly<z.infer<typeof templateFileSchema>> {
  readonly path: string;
  readonly contentHash: string; // sha256 of the file, first 12 hex digits; user edits without a version bump still change the key
}

export const shippedTemplateDirectory = fileURLToPath(new URL('./templates/', import.meta.url));

/** Load a template: `<overrideDirectory>/<name>.yaml` when it exists, otherwise the shipped one. */
export function loadTemplate(name: TemplateName, overrideDirectory?: string): PromptTemplate {
  const overridePath = overrideDirectory ? join(overrideDirectory, `${name}.yaml`) : null;
  const path = overridePath && existsSync(overridePath) ? overridePath : join(shippedTemplateDirectory, `${name}.yaml`);
  const text = readFileSync(path, 'utf8');
  const data = parseYamlFile(path, text, templateFileSchema, 'not valid YAML');
  if (data.name !== name) throw new Error(`${path}: field 'name' is '${data.name}', expected '${name}'`);
  const contentHash = createHash('sha256').update(text).digest('hex').slice(0, 12);
  return Object.freeze({ ...data, path, contentHash });
}

/** Substitute {{name}} placeholders; a placeholder with no value is an error naming the template and placeholder. */
export function renderTemplate(template: string, values: Record<string, string>, source = 'template'): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_match, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`${source}: placeholder '{{${key}}}' has no value`);
    return value;
  });
}

/**
 * Split a template once into literal parts and placeholder names, so rendering per judgment is a string join, not a
 * regex pass. Missing values are the same error as renderTemplate's.
 */
export function compileTemplate(template: string, source = 'template'): (values: Record<string, string>) => string {
  const parts = template.split(/\{\{(\w+)\}\}/); // even: literal text, odd: placeholder names
  return (values) => {
    let out = parts[0]!;
    for (let index = 1; index < parts.length; index += 2) {
      const value = values[parts[index]!];
      if (value === undefined) throw new Error(`${source}: placeholder '{{${parts[index]}}}' has no value`);
      out += value + parts[index + 1]!;
    }
    return out;
  };
}
