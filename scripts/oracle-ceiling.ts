// A diagnostic of `rlaif run` (issues 11, 12): what the loop reaches when its labeler is the gold checker itself, and
// how that falls as the labeler's agreement with gold falls. The gold preference (goldCompare; ties ½) replaces the
// configured labeler, with a share `--noise` of the pairwise verdicts flipped (deterministically, by a hash of the
// pair's id), so a run with --noise 0.15 has a labeler that agrees with gold on about 85% of the pairs it judges.
// Pointwise judgments are gold's pass/fail as a score of 9 or 2, flipped the same way. This breaks the testbed's rule
// that no training signal reads gold: it is an upper bound on what the loop can do, never a result. Every judgment
// of such a run records the labeler 'gold-oracle(noise …)'. With an adversarial config (examples/run-adversarial.yaml)
// the red team's attacks are judged by gold too, read as the run reads its held-out attacks (attackGoldPrompt); an
// attack gold cannot read gets ½. Prints the run's RESULT lines.
// Usage: node --import tsx scripts/oracle-ceiling.ts [--config FILE] [--seed N] [--noise X] [--out DIR]
//   [--testbed-config FILE] (the testbed's own config, YAML, as `rlaif testbed build --config`: e.g. corpus.copyStories)
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { ChatMessage } from '../src/feedback/chat-model-v1.ts';
import type { PairwiseResult, PointwiseResult } from '../src/feedback/judgment-types.ts';
import { attackGoldPrompt } from '../src/pipeline/adversarial/testbed-attacks.ts';
import type { LoopLabeler } from '../src/pipeline/loop-labeler.ts';
import { rlaifRun } from '../src/pipeline/rlaif-run.ts';
import { goldCheck, goldCompare } from '../src/testbed/gold.ts';
import type { TestbedPrompt } from '../src/testbed/prompts.ts';

const { values } = parseArgs({ options: { config: { type: 'string' }, seed: { type: 'string', default: '0' }, noise: { type: 'string', default: '0' }, out: { type: 'string' }, 'testbed-config': { type: 'string' } } });
const noise = Number(values.noise), seed = Number(values.seed);
if (!(noise >= 0 && noise <= 0.5)) throw new Error(`--noise must be in [0, 0.5], got "${values.noise}"`);
if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got "${values.seed}"`);
const flipped = (id: string) => createHash('sha256').update(`oracle|${id}`).digest().readUInt32BE(0) / 2 ** 32 < noise;
const usage = { requests: 0, promptTokens: 0, completionTokens: 0 };

const result = await rlaifRun({
  seed, out: values.out ?? `runs/oracle-noise${noise}-seed${seed}`,
  ...(values['testbed-config'] ? { testbed: { config: parseYaml(readFileSync(values['testbed-config'], 'utf8')) } } : {}),
  ...(values.config ? { configText: { text: readFileSync(values.config, 'utf8'), source: values.config, baseDirectory: dirname(resolve(values.config)) } } : {}),
  onProgress: (e) => { if (e.done === e.total) process.stderr.write(`round ${e.round}: ${e.stage} done\n`); },
  replaceLabeler: (testbed): LoopLabeler => {
    if (!testbed) throw new Error('oracle-ceiling: needs the testbed (prompts.kind testbed)');
    const byMessages = new Map(testbed.prompts.map((p) => [JSON.stringify(p.messages), p]));
    // a red team's attack (adversarial rounds) is graded as the run grades its held-out attacks; an attack gold
    // cannot read gets a neutral judgment (½, a score between pass and fail)
    const promptOf = (conversation: readonly ChatMessage[], id: string): TestbedPrompt | null =>
      byMessages.get(JSON.stringify(conversation)) ?? attackGoldPrompt(testbed.world, { id, messages: conversation });
    return {
      model: `gold-oracle(noise ${noise})`, templateVersion: 'gold-oracle-1',
      async pairwise(input): Promise<PairwiseResult> {
        const prompt = promptOf(input.conversation, input.id);
        if (!prompt) return { kind: 'ok', preferred: 'tie', probability: 0.5, rationale: 'gold cannot read this attack', principles: [], positions: [], usage };
        const { winner } = goldCompare(testbed.world, prompt, input.candidates[0], input.candidates[1]);
        const flip = flipped(input.id), gold = winner === 'a' ? 1 : winner === 'b' ? 0 : 0.5, probability = flip ? 1 - gold : gold;
        return { kind: 'ok', preferred: probability > 0.5 ? 'A' : probability < 0.5 ? 'B' : 'tie', probability, rationale: `gold prefers ${winner}${flip ? ' (flipped)' : ''}`, principles: [], positions: [], usage };
      },
      async pointwise(input): Promise<PointwiseResult> {
        const prompt = promptOf(input.conversation, input.id);
        const pass = prompt ? goldCheck(testbed.world, prompt, input.response).pass !== flipped(input.id) : null;
        const score = pass === null ? 5 : pass ? 9 : 2, distribution = Array.from({ length: 10 }, (_, i) => (i + 1 === score ? 1 : 0));
        return { kind: 'ok', score, reward: (score - 5.5) / 4.5, distribution, labelSource: 'votes', rationale: pass === null ? 'gold cannot read this attack' : pass ? 'gold: pass' : 'gold: fail', principle: { id: 'gold', text: 'the gold checker' }, usage };
      },
    };
  },
});
console.log(result.table);
for (const line of result.lines) console.log(line);
