// Reads the feedback layer's YAML files (constitutions, prompt templates) against their zod schemas, with errors that
// name the file and the field. Leaves out reading the file (callers read it: they keep the text for hashes) and
// anything past the schema (each loader's own checks).
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

/**
 * `text` of the file at `path` parsed as YAML and checked by `schema`. Bad YAML: "<path>: <yamlError>: <why>"; a
 * schema issue: "<path>: field '<a.b>': <message>" (the first issue).
 */
export function parseYamlFile<S extends z.ZodTypeAny>(path: string, text: string, schema: S, yamlError: string): z.infer<S> {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new Error(`${path}: ${yamlError}: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: field '${issue.path.join('.') || '(root)'}': ${issue.message}`);
  }
  return parsed.data;
}
