// The adversarial side of the tiny run (testing/tiny-loop.ts): an attacker over a second tiny GPT with the same 7-token
// tokenizer, the cells of the run's adversarial block under the tiny constitution's one principle. Test-only.
import { tinyBase, TinyTokenizer, type TinyLoop } from '../../testing/tiny-loop.ts';
import { adversary } from '../adversary.ts';
import { attackerPolicy, redTeamCells } from '../red-team.ts';

export function withTinyAdversary(loop: TinyLoop): TinyLoop {
  const { config } = loop.context, adversarial = config.adversarial;
  if (!adversarial) throw new Error('tiny adversary: the config has no adversarial block');
  const cells = redTeamCells(adversarial, () => 'Answer with many a.');
  const attacker = attackerPolicy({ base: tinyBase(2), tokenizer: new TinyTokenizer(), config: adversarial, cells: cells.length, seed: config.seed });
  loop.context.adversary = adversary({ config: adversarial, cells, attacker, promptsPerRound: config.promptsPerRound });
  return loop;
}
