// Benchmarks the testbed: `buildTestbed` from nothing (an empty cache folder), then again from the cache, then the
// audit (labeler vs gold on SFT samples, SFT gold failure rates), for the default seed and seed 1 (never tuned on).
// Prints the load average beside the times: on a shared machine they say little. RESULT lines for bench/run.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditTestbed, buildTestbed } from '../src/testbed/index.ts';

export async function runTestbedBench(seeds = [0, 1]): Promise<void> {
  for (const seed of seeds) {
    const cache = mkdtempSync(join(tmpdir(), 'testbed-bench-'));
    try {
      console.log(`# testbed seed ${seed}: load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
      let started = performance.now();
      const built = await buildTestbed({ seed, cacheDirectory: cache });
      const suffix = seed === 0 ? '' : `_seed${seed}`;
      console.log(`RESULT testbed_build_s${suffix} ${((performance.now() - started) / 1000).toFixed(1)}`);
      started = performance.now();
      await buildTestbed({ seed, cacheDirectory: cache });
      console.log(`RESULT testbed_cached_build_s${suffix} ${((performance.now() - started) / 1000).toFixed(2)}`);
      const audit = await auditTestbed({ world: built.world, prompts: built.prompts, policyDirectory: built.policyDirectory, labelerDirectory: built.labelerDirectory, seed });
      const figures: Record<string, number | null> = {
        labeler_gold_agreement: audit.labeler.accuracy, labeler_kappa: audit.labeler.cohenKappa,
        labeler_same_position_rate: audit.labeler.samePositionPreferred, labeler_ece: audit.labeler.expectedCalibrationError,
        sft_hallucination_rate: audit.sft.hallucination, sft_harmful_compliance_rate: audit.sft.harmfulCompliance,
        sft_over_refusal_rate: audit.sft.overRefusal, sft_coherence_error_rate: audit.sft.coherenceError, testbed_audit_s: audit.seconds,
      };
      for (const [name, value] of Object.entries(figures)) console.log(`RESULT ${name}${suffix} ${value === null ? 'NaN' : value.toFixed(3)}`);
      console.log(`# testbed seed ${seed}: load average after ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }
}
