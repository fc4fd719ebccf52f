// How much of the machine other work took while this process measured something: the tuner's searches (autotune.ts,
// rlaif tune --search) time one thread against the pool and blockings against each other, and a neighbour on a core (an
// install's compiler, a second process tuning at once, a hypervisor's other guests) turns those timings into noise that
// would be recorded for every later process on the machine (a 2-core Zen 5 searched beside one busy core: the pool
// "never won", every product below 33.5M multiply-adds stayed on one thread, and a 16-prompt prefill ran 1.4x slower).
// Linux's /proc/stat gives the CPU time all processes used on each CPU; on the CPUs this process may run on (taskset, a
// container's cpuset: /proc/self/status), this process's own (process.cpuUsage: every thread, the pool's workers
// included) is taken out, and what is left, with the time the hypervisor ran others on our vCPUs (steal), is the
// others' share, in CPUs on average over the interval. Work on other CPUs (the rest of a 16-core host while a search
// runs on two) does not count.
// Leaves out: systems without /proc/stat (null: not known), this process's own threads getting in each other's way,
// a CPU quota without a cpuset (all the host's CPUs count then).
import { readFileSync } from 'node:fs';

/** Jiffies of the CPUs read, together: busy (user, nice, system, irq, softirq, steal) and all; how many CPUs. */
export interface CpuTimes { busy: number; total: number; cpus: number }

/** A /proc file's text, or null where there is none (not Linux). */
function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The CPUs this process may run on (/proc/self/status Cpus_allowed_list: taskset, a container's cpuset), or null
 * where that is not known. */
export function allowedCpus(text?: string): number[] | null {
  const status = text ?? readProc('/proc/self/status');
  if (status === null) return null;
  const list = /^Cpus_allowed_list:\s*([\d,\s-]+)$/m.exec(status)?.[1]?.trim();
  if (!list) return null;
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const [from, to = from] = part.trim().split('-').map(Number);
    if (!Number.isInteger(from) || !Number.isInteger(to) || to! < from! || to! - from! > 1 << 16) return null;
    for (let cpu = from!; cpu <= to!; cpu++) cpus.push(cpu);
  }
  return cpus.length > 0 ? cpus : null;
}

/** /proc/stat's jiffies now: of the CPUs in `only` (their cpuN lines), else of all (its first line); null where there
 * is no /proc/stat (not Linux) or it does not parse. */
export function readCpuTimes(text?: string, only?: readonly number[] | null): CpuTimes | null {
  const stat = text ?? readProc('/proc/stat');
  if (stat === null) return null;
  const times = (fields: string[]): { busy: number; total: number } | null => {
    const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields.slice(0, 8).map(Number);
    if (fields.length < 4 || [user, nice, system, idle, iowait, irq, softirq, steal].some((v) => !Number.isFinite(v))) return null;
    const busy = user! + nice! + system! + irq + softirq + steal;
    return { busy, total: busy + idle! + iowait };
  };
  const lines = stat.split('\n').map((line) => line.trim().split(/\s+/));
  if (only && only.length > 0) {
    const wanted = new Set(only.map((cpu) => `cpu${cpu}`));
    let busy = 0, total = 0, cpus = 0;
    for (const [name, ...fields] of lines) {
      if (!name || !wanted.has(name)) continue;
      const t = times(fields);
      if (!t) return null;
      busy += t.busy; total += t.total; cpus++;
    }
    return cpus > 0 ? { busy, total, cpus } : null;
  }
  const first = lines[0];
  if (!first || first[0] !== 'cpu') return null;
  const t = times(first.slice(1));
  if (!t) return null;
  return { ...t, cpus: Math.max(1, lines.filter(([name]) => /^cpu\d+$/.test(name ?? '')).length) };
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

/** Runs `work` and says how many of this process's CPUs other work kept busy meanwhile, on average (null where it
 * cannot be known): others on CPUs this process may not use do not count. */
export function measureOthersBusy<T>(work: () => T): { value: T; othersCpus: number | null; wallMs: number } {
  const only = allowedCpus();
  const before = readCpuTimes(undefined, only), own = process.cpuUsage(), started = performance.now();
  const value = work();
  const wallMs = performance.now() - started, used = process.cpuUsage(own), after = readCpuTimes(undefined, only);
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
