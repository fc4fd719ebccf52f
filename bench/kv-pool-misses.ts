// The judge-inprocess bench (judge-inprocess-bench.ts) with every KvBufferPool.take counted: after each round, the MB
// of fresh buffers each caller took (the pool had none of that size: first-touch page faults) and the takes the pool
// served, by caller (generate, the prefix cache's prefillBatch and prefillMany, the batch engine's packRows); round 0's
// counts include the warm-up passes.
// Run: node --import tsx bench/kv-pool-misses.ts
import { KvBufferPool } from '../src/models/kv-cache.ts';
import { runJudgeInprocessBench } from '../bench/judge-inprocess-bench.ts';
const miss: Record<string, number> = {}, hit: Record<string, number> = {};
const take = KvBufferPool.prototype.take;
KvBufferPool.prototype.take = function (n: number) {
  const before = this.heldBytes; const r = take.call(this, n);
  const stack = new Error().stack ?? ''; const src = stack.includes('generate.ts') ? 'generate' : stack.includes('packRows') ? 'pack' : stack.includes('prefillMany') ? 'prefillMany' : stack.includes('prefillBatch') ? 'prefillBatch' : 'other';
  const k = src; if (this.heldBytes < before) hit[k] = (hit[k] ?? 0) + 1; else miss[k] = (miss[k] ?? 0) + r.buffer.byteLength / 2 ** 20;
  return r;
};
const log = console.log; console.log = (...a: unknown[]) => { log(...a); if (String(a[0]).startsWith('# judge-inprocess round')) { log('  missMB', JSON.stringify(Object.fromEntries(Object.entries(miss).map(([k, v]) => [k, +v.toFixed(1)]))), 'hits', JSON.stringify(hit)); for (const k in miss) miss[k] = 0; for (const k in hit) hit[k] = 0; } };
await runJudgeInprocessBench();
