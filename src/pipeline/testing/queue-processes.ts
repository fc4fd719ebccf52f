// Child processes for the queue tests: tiny queue workers (tiny-queue-worker.ts) and the tiny run's coordinator
// through the queue (tiny-queue-run-process.ts), each resolved once it printed its ready line. Test-only.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** Resolves when the child printed `line` (rejects if it exited first). */
  printed(line: string): Promise<void>;
}

export function spawnTs(file: string, args: string[]): Child {
  const process_ = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url)), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: { line: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  const check = () => { for (const w of waiters.splice(0)) { if (out.includes(w.line)) w.resolve(); else waiters.push(w); } };
  process_.stdout!.on('data', (chunk) => { out += chunk; check(); });
  process_.stderr!.on('data', (chunk) => { out += chunk; });
  const exited = new Promise<number | null>((resolve) => process_.on('exit', (code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`${file} exited (${code}) before printing '${w.line}':\n${out.slice(-2000)}`));
    resolve(code);
  }));
  return { process: process_, output: () => out, exited,
    printed: (line) => new Promise((resolve, reject) => { waiters.push({ line, resolve, reject }); check(); }) };
}

export async function startWorkers(options: { url: string; logs: string[]; failOn?: string }): Promise<Child[]> {
  const workers = options.logs.map((log) => spawnTs('./tiny-queue-worker.ts', [options.url, log, ...(options.failOn ? [options.failOn] : [])]));
  await Promise.all(workers.map((w) => w.printed('ready')));
  return workers;
}

export async function stopWorkers(workers: Child[]): Promise<void> {
  for (const w of workers) if (w.process.exitCode === null && w.process.signalCode === null) w.process.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
}

/** Lines of the workers' call logs (one per labeler call, the judgment id). */
export function calls(logs: string[]): string[] {
  return logs.flatMap((log) => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []));
}
