// The kernels a run computes with, kept in its folder (machine.json: the MACHINE lines of the CPU and of the native
// backend's level, threads, GEMM micro-kernel and blocking, split and pool thresholds), so a run's figures name what
// produced them, and a resume under other settings says so: a GEMM sums in kc panels, and the thread count and pool
// thresholds order the sums of some products, so the resumed part's last bits differ from an uninterrupted run's (a
// machine whose first tuning was busy can choose its blocking at a later start; `rlaif tune --search`; RLAIF_THREADS;
// another machine). Written once, at the run's first start; the report shows it.
// Leaves out: the queue's workers (each computes on its own machine; their rollouts and judgments are what they are).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend } from '../engine/backends/index.ts';
import { describeMachine, formatMachine } from '../engine/machine.ts';

export const RUN_MACHINE_FILE = 'machine.json';

/** The lines that decide a run's bits on this machine: the CPU and the kernels (the MACHINE lines less the flags). */
export function kernelSettings(): string[] {
  return formatMachine(describeMachine(getBackend())).filter((line) => line.startsWith('cpu ') || line.startsWith('kernels '));
}

/** The settings recorded in a run folder, or null (a run from before machine.json, or none yet). */
export function readRunMachine(dir: string): string[] | null {
  const path = join(dir, RUN_MACHINE_FILE);
  if (!existsSync(path)) return null;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { kernels?: unknown };
    return Array.isArray(parsed.kernels) && parsed.kernels.every((line) => typeof line === 'string') ? parsed.kernels as string[] : null;
  } catch {
    return null;
  }
}

/**
 * At a run's start: records `now` (default: this process's settings) when the folder has none; on a resume, returns
 * a notice naming what differs from the recorded settings, or null when they are the same.
 */
export function checkRunMachine(dir: string, now: string[] = kernelSettings()): string | null {
  const recorded = readRunMachine(dir);
  if (!recorded) {
    const path = join(dir, RUN_MACHINE_FILE);
    writeFileSync(`${path}.tmp`, `${JSON.stringify({ kernels: now }, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
    return null;
  }
  if (recorded.length === now.length && recorded.every((line, i) => line === now[i])) return null;
  return `rlaif run: this run began under other kernel settings (${recorded.join('; ')}) than this process's (${now.join('; ')}); `
    + `the rounds it runs now compute with these, so their last bits differ from an uninterrupted run's (${RUN_MACHINE_FILE} keeps the first)`;
}
