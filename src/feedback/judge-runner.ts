// Judges many items with bounded concurrency through a cache: cached items cost no call, every item ends as exactly one
// result or typed failure, and an interrupt (abort signal) stops new work without recording anything partial. Only
// final results are cached: a provider failure (server down, timeout, 429/5xx, 401/403) is reported but judged again on
// the next run; a verdict the model really gave and that could not be read is final.
// Leaves out distribution across processes (the queue design in DESIGN.md). No paper.
import { JudgmentCache } from './judgment-cache.ts';

export interface CachedJudgment<R> {
  result: R;
  judgedAt: string;
}

export interface RunJudgmentsOptions<I extends { id: string }, R extends { kind: string }> {
  judge: (item: I, signal?: AbortSignal) => Promise<R>;
  identity: unknown; // the judge's identity; with the item, the cache key
  cache: JudgmentCache<CachedJudgment<R>> | null;
  concurrency: number; // judgments in flight at most
  retryFailed?: boolean; // cached typed failures are judged again
  isFinal?: (result: R) => boolean; // cached and never judged again; default isFinalResult
  signal?: AbortSignal;
  onResult?: (item: I, judgment: CachedJudgment<R>, fromCache: boolean) => void;
}

export interface RunJudgmentsOutcome<R> {
  judgments: Array<CachedJudgment<R> | null>; // (items,) null only for items not reached before an interrupt
  fromCache: number;
  judgedNow: number;
  interrupted: boolean;
}

/** Final: a result, or a failure the model's own answer caused (unparseable or empty); never a provider failure. */
export function isFinalResult(result: { kind: string; reason?: string }): boolean {
  return result.kind === 'ok' || result.reason !== 'provider-error';
}

export async function runJudgments<I extends { id: string }, R extends { kind: string }>(
  items: I[],
  options: RunJudgmentsOptions<I, R>,
): Promise<RunJudgmentsOutcome<R>> {
  const seen = new Set<string>();
  for (const [index, item] of items.entries()) {
    if (seen.has(item.id)) throw new Error(`item ${index}: duplicate id '${item.id}'`);
    seen.add(item.id);
  }
  const judgments: Array<CachedJudgment<R> | null> = items.map(() => null);
  let next = 0;
  let fromCache = 0;
  let judgedNow = 0;
  const keyOf = options.cache ? JudgmentCache.keyer(options.identity) : null; // no cache, no hashing
  const isFinal = options.isFinal ?? isFinalResult;
  const worker = async (): Promise<void> => {
    while (next < items.length && !options.signal?.aborted) {
      const index = next++;
      const item = items[index]!;
      const key = keyOf?.(item) ?? '';
      const cached = key ? options.cache?.get(key) : undefined;
      // A cached provider failure (written before failures were told apart) is judged again like a miss.
      if (cached && isFinal(cached.result) && !(options.retryFailed && cached.result.kind !== 'ok')) {
        judgments[index] = cached;
        fromCache++;
        options.onResult?.(item, cached, true);
        continue;
      }
      let result: R;
      try {
        result = await options.judge(item, options.signal);
      } catch (error) {
        if (options.signal?.aborted) return; // interrupted mid-judgment: leave it unjudged, nothing partial is kept
        throw error;
      }
      const judgment = { result, judgedAt: new Date().toISOString() };
      if (isFinal(result)) options.cache?.set(key, judgment);
      judgments[index] = judgment;
      judgedNow++;
      options.onResult?.(item, judgment, false);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency, items.length)) }, worker);
  await Promise.all(workers);
  return { judgments, fromCache, judgedNow, interrupted: judgments.some((judgment) => judgment === null) };
}
