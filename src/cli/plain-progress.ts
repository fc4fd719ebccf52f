// Progress as plain lines, for a log (stderr not a terminal): each task's start, each tenth of it and its end, with
// the seconds since the command began. Progress bars redraw on a timer and in place, which a log cannot show, and a
// synchronous stage (the testbed's training) never lets the timer fire. Used by `rlaif testbed build` and `rlaif run`.

export type PlainProgress = (task: string, done: number, total: number, extra?: string) => void;

/** A line writer that prints `<prefix>: <task> <done>/<total>[ extra] (<s> s)` once per tenth of each task. */
export function plainProgress(write: (line: string) => void, prefix: string, now: () => number = () => performance.now()): PlainProgress {
  const started = now(), shown = new Map<string, number>();
  return (task, done, total, extra) => {
    const tenth = total > 0 ? Math.floor((10 * Math.min(done, total)) / total) : 10;
    if (shown.get(task) === tenth) return;
    shown.set(task, tenth);
    write(`${prefix}: ${task} ${done}/${total}${extra ? ` ${extra}` : ''} (${((now() - started) / 1000).toFixed(0)} s)`);
  };
}
