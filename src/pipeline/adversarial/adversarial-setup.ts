// Sets up adversarial rounds for `rlaif run`: the archive's cells from the config and the constitution, the attacker
// (testbed: the SFT policy tuned on attack demonstrations; otherwise a copy of the policy's starting weights), the
// adversary hooks on the round context, and in testbed mode the held-out attack set (a separate attacker trained
// against SFT before round 1). Leaves out the rounds themselves (round.ts calls the hooks). Issue 14.
import { deriveSeed } from '../../engine/random.ts';
import type { Constitution } from '../../feedback/constitution.ts';
import type { TextTokenizer } from '../../models/tokenizer.ts';
import type { Transformer } from '../../models/transformer.ts';
import type { BuiltTestbed } from '../../testbed/index.ts';
import type { RoundContext } from '../round-context.ts';
import { recordId } from '../run-records.ts';
import { adversary } from './adversary.ts';
import { heldOutAttacks } from './held-out.ts';
import { attackerPolicy, redTeamCells } from './red-team.ts';
import { testbedAttacker } from './testbed-attacks.ts';

export async function setupAdversarial(context: RoundContext, options: {
  base: { model: Transformer; tokenizer: TextTokenizer }; constitution: Constitution; testbed: BuiltTestbed | null;
}): Promise<void> {
  const { config } = context, adversarial = config.adversarial;
  if (!adversarial) return;
  const text = (id: string) => {
    const principle = options.constitution.principles.find((p) => p.id === id);
    if (!principle) throw new Error(`adversarial.principles: '${id}' is not a principle of constitution ${options.constitution.name} (it has ${options.constitution.principles.map((p) => p.id).join(', ')})`);
    return principle.text;
  };
  const cells = redTeamCells(adversarial, text);
  const make = (label: string) => (options.testbed
    ? testbedAttacker({ base: options.base.model, tokenizer: options.base.tokenizer, config: adversarial, cells, prompts: options.testbed.prompts, seed: deriveSeed(config.seed, label) })
    : attackerPolicy({ base: options.base.model, tokenizer: options.base.tokenizer, config: adversarial, cells, seed: deriveSeed(config.seed, label) }));
  context.onProgress?.({ stage: 'red team: attacker', round: 0, done: 0, total: 1 });
  context.adversary = adversary({ config: adversarial, cells, attacker: make('red-team'), promptsPerRound: config.promptsPerRound });
  if (!options.testbed) return;
  const id = recordId('stage', { round: 0, stage: 'redteam-heldout' }), start = performance.now();
  await heldOutAttacks(context, { attacker: make('held-out-red-team'), cells, config: adversarial });
  if (!context.store.get('stage', id)) context.store.put({ id, kind: 'stage', round: 0, parents: [], stage: 'redteam-heldout', ms: performance.now() - start, detail: {} });
  context.store.commit();
}
