// A constitution: a YAML file of principles, with one sampled per judgment (seeded) or all aggregated.
// Leaves out weighting principles; aggregation is the plain mean of per-principle soft labels.
// Follows Constitutional AI (Bai et al. 2022, arXiv 2212.08073): principles sampled per comparison.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { hashToUnit } from './stable-hash.ts';
import { parseYamlFile } from './yaml-file.ts';

const principleSchema = z.strictObject({
  id: z.string().min(1).describe('stable identifier recorded with every judgment'),
  text: z.string().min(1).describe('what a good response does; used by pairwise and pointwise judges'),
  critique: z.string().optional().describe('critique request (critique-revision)'),
  revision: z.string().optional().describe('revision request (critique-revision)'),
});

const constitutionSchema = z.strictObject({
  name: z.string().min(1),
  version: z.string().min(1),
  principles: z.array(principleSchema).min(1),
});

export type Principle = Readonly<z.infer<typeof principleSchema>>;
export type Constitution = Readonly<z.infer<typeof constitutionSchema>>;
export type PrincipleMode = 'sample-one' | 'aggregate-all';

export const shippedConstitutionPath = fileURLToPath(new URL('./constitutions/harmless.yaml', import.meta.url));

export function loadConstitution(path: string = shippedConstitutionPath): Constitution {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${path}: cannot read constitution: ${(error as Error).message}`);
  }
  const data = parseYamlFile(path, text, constitutionSchema, 'cannot read constitution');
  const ids = new Set<string>();
  for (const [index, principle] of data.principles.entries()) {
    if (ids.has(principle.id)) throw new Error(`${path}: field 'principles.${index}.id': duplicate id '${principle.id}'`);
    ids.add(principle.id);
  }
  return Object.freeze({ ...data, principles: Object.freeze(data.principles.map((p) => Object.freeze(p))) as Principle[] });
}

/** The principles one judgment uses: one drawn by (seed, item id) or all of them. */
export function selectPrinciples(constitution: Constitution, mode: PrincipleMode, itemId: string, seed: number): Principle[] {
  if (mode === 'aggregate-all') return [...constitution.principles];
  const index = Math.floor(hashToUnit(`${seed}:${itemId}`) * constitution.principles.length);
  return [constitution.principles[Math.min(index, constitution.principles.length - 1)]!];
}
