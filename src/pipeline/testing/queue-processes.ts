// Child processes for the queue tests: tiny queue workers (tiny-queue-worker.ts) and the tiny run's coordinator
// through the queue (tiny-queue-run-process.ts), each resolved once it printed its ready line. Test-only.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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

export interface WorkerFaults { failOn?: string; hold?: boolean; delayMs?: number; holdRollout?: string }

/** Sets the faults of the worker logging to `log` (read before its every call). */
export function setFaults(log: string, faults: WorkerFaults): void {
  writeFileSync(`${log}.faults.json`, JSON.stringify(faults));
}

/** One tiny worker per log file. */
export async function startWorkers(options: { url: string; logs: string[] }): Promise<Child[]> {
  const workers = options.logs.map((log) => spawnTs('./tiny-queue-worker.ts', [options.url, log]));
  await Promise.all(workers.map((w) => w.printed('ready')));
  return workers;
}

export async function stopWorkers(workers: Child[]): Promise<void> {
  for (const w of workers) if (w.process.exitCode === null && w.process.signalCode === null) w.process.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
}

const rawLines = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
const isCall = (line: string) => !line.startsWith('hold ') && !line.startsWith('start ');

/** Lines of the workers' call logs (one per labeler call, the judgment id). */
export function calls(logs: string[]): string[] {
  return logs.flatMap((log) => rawLines(log).filter(isCall));
}

export interface CallMark { logs: string[]; lines: number[] }

/** Where each log ends now; callsSince(mark) lists the calls logged after it. */
export function markCalls(logs: string[]): CallMark {
  return { logs, lines: logs.map((log) => rawLines(log).length) };
}

const since = (mark: CallMark) => mark.logs.flatMap((log, i) => rawLines(log).slice(mark.lines[i]));

export function callsSince(mark: CallMark): string[] {
  return since(mark).filter(isCall);
}

/** Calls started (delayMs faults) after the mark and not finished yet. */
export function inFlight(mark: CallMark): string[] {
  const lines = since(mark), started = lines.filter((l) => l.startsWith('start ')).map((l) => l.slice(6)), finished = lines.filter(isCall);
  const count = (list: string[], id: string) => list.filter((x) => x === id).length;
  return [...new Set(started)].filter((id) => count(started, id) > count(finished, id));
}

/** Polls (every 50 ms) until `check` holds; no deadline of its own: the test runner's timeout bounds it. */
export async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Rollout jobs each worker finished (their job ids, from <log>.rollout), and the one it holds ('hold <id>'). */
export function rolloutJobs(log: string): { done: string[]; held: string | null } {
  const lines = rawLines(`${log}.rollout`);
  return { done: lines.filter((l) => !l.startsWith('hold ')), held: lines.find((l) => l.startsWith('hold '))?.slice(5) ?? null };
}
