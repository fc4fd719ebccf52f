// The `rlaif judge` progress line: pairs done of total, failures, cache hits, and what the run is doing when nothing
// finishes: waiting on the server for how long, retries so far and the last error, so a hung server never reads as
// `0/2 pairs | eta 0s`. A pure formatter over a small state, updated by events and a 1 s timer. No paper.

export interface JudgeProgressState {
  total: number;
  done: number; // pairs finished this run, cached ones included
  failures: number;
  cached: number;
  retries: number;
  lastError: string | null; // the last provider error, redacted
  startedAt: number; // ms, when judging started
  lastResultAt: number; // ms, when the last pair finished (startedAt before the first)
}

function duration(milliseconds: number): string {
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** One line: counts, then an estimate once pairs are judged now, or how long it has been waiting; retries and the last error. */
export function progressLine(state: JudgeProgressState, now: number): string {
  const parts = [`${state.done}/${state.total} pairs`, `${state.failures} failed`, `${state.cached} cached`];
  const judgedNow = state.done - state.cached;
  const idle = now - state.lastResultAt;
  if (state.done < state.total) {
    if (judgedNow > 0 && idle < 5000) parts.push(`eta ${duration(((now - state.startedAt) / judgedNow) * (state.total - state.done))}`);
    else parts.push(`waiting ${duration(idle)} for the labeler`);
  }
  if (state.retries > 0) parts.push(`${state.retries} retries`);
  if (state.lastError) parts.push(`last error: ${state.lastError.length > 80 ? `${state.lastError.slice(0, 77)}...` : state.lastError}`);
  return `judging ${parts.join(' | ')}`;
}
