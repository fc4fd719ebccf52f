// How much of the machine other work took while this process measured something: the tuner's searches (autotune.ts,
// rlaif tune --search) time one thread against the pool and blockings against each other, and a neighbour on a core (an
// install's compiler, a second process tuning at once, a hypervisor's other guests) turns those timings into noise that
// would be recorded for every later process on the machine (a 2-core Zen 5 searched beside one busy core: the pool
// "never won", every product below 33.5M multiply-adds stayed on one thread, and a 16-prompt prefill ran 1.4x slower).
// Linux's /proc/stat gives the CPU time all processes used; this process's own (process.cpuUsage: every thread, the
// pool's workers included) is taken out, and what is left, with the time the hypervisor ran others on our vCPUs
// (steal), is the others' share, in CPUs on average over the interval.
// Leaves out: systems without /proc/stat (null: not known), which CPUs the others ran on, this process's own threads
// getting in each other's way.
import { readFileSync } from 'node:fs';

/** Jiffies of all CPUs together, from /proc/stat's first line: busy (user, nice, system, irq, softirq, steal) and all. */
export interface CpuTimes { busy: number; total: number; cpus: number }

/** /proc/stat's totals now, or null where there is none (not Linux) or it does not parse. */
export function readCpuTimes(text?: string): CpuTimes | null {
  let stat = text;
  if (stat === undefined) {
    try {
      stat = readFileSync('/proc/stat', 'utf8');
    } catch {
      return null;
    }
  }
  const lines = stat.split('\n');
  const first = lines[0]?.trim().split(/\s+/);
  if (!first || first[0] !== 'cpu' || first.length < 5) return null;
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = first.slice(1, 9).map(Number);
  if ([user, nice, system, idle, iowait, irq, softirq, steal].some((v) => !Number.isFinite(v))) return null;
  const busy = user! + nice! + system! + irq + softirq + steal;
  const cpus = lines.filter((line) => /^cpu\d+\s/.test(line)).length;
  return { busy, total: busy + idle! + iowait, cpus: Math.max(1, cpus) };
}

/** Others' CPUs from two /proc/stat readings and this process's CPU microseconds over `wallMs`: null when unknown. */
export function othersBusyCpus(before: CpuTimes | null, after: CpuTimes | null, ownCpuUs: number, wallMs: number): number | null {
  if (!before || !after || wallMs <= 0) return null;
  const total = after.total - before.total;
  if (total <= 0) return null;
  const busyCpus = ((after.busy - before.busy) / total) * after.cpus;  // CPUs busy on average, this process included
  const ownCpus = ownCpuUs / 1000 / wallMs;
  return Math.max(0, busyCpus - ownCpus);
}

/** Runs `work` and says how many CPUs other work kept busy meanwhile, on average (null where it cannot be known). */
export function measureOthersBusy<T>(work: () => T): { value: T; othersCpus: number | null; wallMs: number } {
  const before = readCpuTimes(), own = process.cpuUsage(), started = performance.now();
  const value = work();
  const wallMs = performance.now() - started, used = process.cpuUsage(own), after = readCpuTimes();
  return { value, othersCpus: othersBusyCpus(before, after, used.user + used.system, wallMs), wallMs };
}

/** The most CPUs other work may keep busy, on average, during a tuning search for its timings to be recorded:
 * RLAIF_TUNE_BUSY_CPUS, default 0.25 (a quarter of one CPU: a desktop's background, not a compile or a second search). */
export function tuneBusyLimit(value = process.env.RLAIF_TUNE_BUSY_CPUS): number {
  if (value === undefined || value.trim() === '') return 0.25;
  const limit = /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(limit)) throw new Error(`RLAIF_TUNE_BUSY_CPUS must be a number of CPUs >= 0 (e.g. 0.25), got "${value}"`);
  return limit;
}
