// Preference records to and from Parquet (or DuckDB-read JSONL) through @duckdb/node-api: prompt/chosen/rejected as
// LIST<STRUCT(role, content)> columns TRL and pandas read directly; judgment and source as JSON text columns.
// Leaves out partitioned datasets and remote (S3/HTTP) paths: local files only. No paper.
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { processAlive } from '../engine/process-alive.ts';
import { writeJsonl } from './jsonl-file.ts';
import { parseRecord, type PreferenceRecord } from './preference-record.ts';

// DuckDB (a native library of tens of MB, a fifth of a second to load) is imported where it is used (here and in
// pipeline/run-store-sql.ts), not when a command starts: most commands and runs never read or write Parquet or query a
// run with SQL. Node imports a module once.

const messageList = 'STRUCT(role VARCHAR, content VARCHAR)[]';
const columns = `{id: 'VARCHAR', prompt: '${messageList}', chosen: '${messageList}', rejected: '${messageList}', judgment: 'VARCHAR', source: 'VARCHAR'}`;

function quote(path: string): string {
  return `'${path.replaceAll("'", "''")}'`;
}

async function withConnection<T>(task: (run: (sql: string) => Promise<Array<Record<string, unknown>>>) => Promise<T>): Promise<T> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    return await task(async (sql) => (await connection.runAndReadAll(sql)).getRowObjects() as Array<Record<string, unknown>>);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const STAGING = '.rlaif-parquet-';

/** Staging folders of writes whose process is gone (killed mid-write): removed before the next write in that folder. */
function removeStaleStaging(folder: string): void {
  for (const name of readdirSync(folder)) {
    const pid = Number(name.startsWith(STAGING) ? name.slice(STAGING.length).split('-')[0] : NaN);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) rmSync(join(folder, name), { recursive: true, force: true });
  }
}


const staged = new Set<string>();
let exitHook = false;

/**
 * Writes records as Parquet atomically: rows are staged as JSONL and converted in a staging folder beside the output
 * (.rlaif-parquet-<pid>-<n>), then the file is renamed into place. The staging folder is removed when done, at process
 * exit, and (when a kill left it) by the next write into that folder.
 */
export async function writeParquet(path: string, records: PreferenceRecord[]): Promise<void> {
  const folder = dirname(path);
  mkdirSync(folder, { recursive: true });
  removeStaleStaging(folder);
  const staging = join(folder, `${STAGING}${process.pid}-${staged.size}-${Date.now()}`);
  mkdirSync(staging);
  staged.add(staging);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => { for (const dir of staged) rmSync(dir, { recursive: true, force: true }); });
  }
  try {
    const jsonl = join(staging, 'rows.jsonl'), parquet = join(staging, 'out.parquet');
    writeJsonl(
      jsonl,
      records.map((record) => ({
        id: record.id,
        prompt: record.prompt,
        chosen: record.chosen,
        rejected: record.rejected,
        judgment: record.judgment ? JSON.stringify(record.judgment) : null,
        source: record.source ? JSON.stringify(record.source) : null,
      })),
    );
    await withConnection((run) => run(`COPY (SELECT * FROM read_json(${quote(jsonl)}, format = 'newline_delimited', columns = ${columns})) TO ${quote(parquet)} (FORMAT parquet)`));
    renameSync(parquet, path);
  } finally {
    rmSync(staging, { recursive: true, force: true });
    staged.delete(staging);
  }
}

/** Each row of a Parquet file as the JSON object DuckDB makes of it (a missing value is null); a file that is not
 * Parquet is an error naming it. */
export async function parquetRowsAsJson(path: string): Promise<Record<string, unknown>[]> {
  return rowsAsJson(path, `SELECT to_json(t)::VARCHAR AS row FROM read_parquet(${quote(path)}) t`);
}

async function rowsAsJson(path: string, sql: string): Promise<Record<string, unknown>[]> {
  let rows: Array<Record<string, unknown>>;
  try {
    rows = await withConnection((run) => run(sql));
  } catch (error) {
    throw new Error(`${path}: cannot read with DuckDB: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
  return rows.map((row) => JSON.parse(String(row.row)) as Record<string, unknown>);
}

/** Read records from a Parquet file (or JSONL via DuckDB when the name ends in .jsonl/.json). */
export async function readWithDuckDb(path: string): Promise<PreferenceRecord[]> {
  // JSONL lines are taken as raw JSON objects (no type inference: ISO strings must stay strings).
  const values = /\.jsonl?$/.test(path) ? await rowsAsJson(path, `SELECT json::VARCHAR AS row FROM read_ndjson_objects(${quote(path)})`) : await parquetRowsAsJson(path);
  return values.map((value, index) => {
    const where = `${path}: row ${index + 1}`;
    const decode = (field: string): unknown => {
      const text = value[field];
      if (text === null || text === undefined) return undefined;
      if (typeof text !== 'string') return text;
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`${where}: field '${field}' is not JSON text`);
      }
    };
    return parseRecord({ ...value, judgment: decode('judgment'), source: decode('source') }, where);
  });
}
