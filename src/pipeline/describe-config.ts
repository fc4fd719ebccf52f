// A parsed config as YAML with each key's description from its zod schema as a comment above it: what `--print-config`
// of `rlaif run`, `rlaif judge` and `rlaif train <kind>` prints, so every key, its value and what it means can be read
// without the source, and the printed file read back by `--config`. Union members are matched by their `kind` (or
// `type`) field. Leaves out descriptions of array items. Redacting secrets is the caller's (each command has its own
// for-disk form).
import { Document as YamlDocument, isMap, isScalar } from 'yaml';
import { z } from 'zod';

type JsonSchemaNode = { description?: string; properties?: Record<string, JsonSchemaNode>; oneOf?: JsonSchemaNode[]; anyOf?: JsonSchemaNode[];
  const?: unknown; type?: string };

/** The schema node that describes `value`: a union's member whose `kind` (or `type`) matches it, or its non-null branch. */
function nodeFor(node: JsonSchemaNode | undefined, value: unknown): JsonSchemaNode | undefined {
  const options = node?.oneOf ?? node?.anyOf;
  if (!options) return node;
  const tag = typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind ?? (value as { type?: unknown }).type : undefined;
  const match = (tag === undefined ? undefined : options.find((o) => (o.properties?.kind?.const ?? o.properties?.type?.const) === tag))
    ?? options.find((o) => (value === null ? o.type === 'null' : o.type !== 'null'));
  return match ? { ...match, description: match.description ?? node!.description } : node;
}

/** Words to comment lines of at most `width` characters (the yaml package prefixes each with #). */
function wrap(text: string, width = 110): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) { lines.push(line); line = word; } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => ` ${l}`).join('\n');
}

/** `config` (already parsed by `schema`, secrets already removed) as commented YAML. */
export function describeConfig(schema: z.ZodType, config: unknown): string {
  const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  const document = new YamlDocument(structuredClone(config));
  const annotate = (map: unknown, node: JsonSchemaNode | undefined, value: unknown) => {
    if (!isMap(map) || typeof value !== 'object' || value === null) return;
    const described = nodeFor(node, value);
    for (const pair of map.items) {
      if (!isScalar(pair.key)) continue;
      const key = String(pair.key.value), child = (value as Record<string, unknown>)[key];
      const childNode = nodeFor(described?.properties?.[key], child);
      const description = childNode?.description ?? described?.properties?.[key]?.description;
      if (description) pair.key.commentBefore = wrap(description);
      annotate(pair.value, childNode, child);
    }
  };
  annotate(document.contents, root, config);
  return document.toString({ lineWidth: 0 });
}
