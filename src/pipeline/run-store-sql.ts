// SQL over a run store with DuckDB: one view per record kind (prompts, samples, judgments, rewards, advantages,
// evaluations, gates, stages, gold, attacks, revisions, reward_models) over the JSONL files, then any query. Leaves
// out writing through DuckDB (the store appends JSONL itself) and Parquet export of whole runs. No paper.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_FILES } from './run-records.ts';

function quote(path: string): string {
  return `'${path.replaceAll("'", "''")}'`;
}

/** Runs `sql` against the run folder's records; rows come back as plain objects (BigInts made numbers). */
export async function queryRun(dir: string, sql: string): Promise<Record<string, unknown>[]> {
  const { DuckDBInstance } = await import('@duckdb/node-api');   // on first use: see data/duckdb-format.ts
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    for (const file of Object.values(RECORD_FILES)) {
      const path = join(dir, 'records', file), view = file.replace('.jsonl', '');
      // An empty or absent file still gets a (row-less) view, so queries over a young run do not fail.
      const source = existsSync(path) && statSync(path).size > 0
        ? `read_json_auto(${quote(path)}, format = 'newline_delimited', union_by_name = true)` : `(SELECT NULL::VARCHAR AS id WHERE false)`;
      await connection.run(`CREATE VIEW ${view} AS SELECT * FROM ${source}`);
    }
    const rows = (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
    return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
