// The records the kill -9 test's child writes: sample i, ~20 kB, so a kill often lands mid-write. Test-only.
import { recordId, type SampleRecord } from '../run-records.ts';

export function writerSample(i: number): SampleRecord {
  const tokens = Array.from({ length: 2500 }, (_, t) => (i * 31 + t) % 97);
  return {
    id: recordId('sample', { i }), kind: 'sample', round: 1, parents: [`prompt-${i % 7}`], stage: 'rollout', policyRound: 0, index: i,
    text: `sample ${i}`, tokens, logprobs: tokens.map((t) => -(t + 1) / 100),
  };
}
