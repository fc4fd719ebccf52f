// `npm run bench -- run`: `rlaif run` with the default config (the embedded testbed, built or taken from the cache)
// into a fresh folder, timed, with the per-stage split and the run's own RESULT figures (gold vs SFT etc.).
// Leaves out the from-nothing build (delete .rlaif-cache first to time it; `rlaif testbed build` reports it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rlaifRun } from '../src/pipeline/rlaif-run.ts';

export async function runLoopBench(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'rlaif-bench-run-'));
  try {
    const started = performance.now();
    const run = await rlaifRun({ out });
    console.log(`RESULT run_wall_s ${((performance.now() - started) / 1000).toFixed(1)}`);
    for (const line of run.lines) console.log(line.replace(/^RESULT /, 'RESULT run_'));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
