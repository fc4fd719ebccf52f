// The adversarial side of the tiny run (testing/tiny-loop.ts): an attacker over a second tiny GPT with the same 7-token
// tokenizer, the cells of the run's adversarial block. Every principle reads 'Answer with many a.'; a principle the
// tiny constitution lacks (e.g. 'coherent') is added to the labeler's constitution under that wording. Dialogue cells
// use TINY_DIALOGUE_FORMAT, whose markers the 7-token tokenizer can write, and the attacker first learns (SFT) three-turn
// demonstrations in it, so that its dialogue attacks are sometimes well-formed and sometimes not. Test-only.
import { Rng } from '../../../engine/index.ts';
import type { Constitution } from '../../../feedback/constitution.ts';
import { tinyBase, tinyLabeler, TinyTokenizer, TINY_CONSTITUTION, type TinyLoop } from '../../testing/tiny-loop.ts';
import { adversary } from '../adversary.ts';
import { renderDialogue, type DialogueFormat } from '../dialogue-attack.ts';
import { attackerPolicy, learnDemonstrations, redTeamCells } from '../red-team.ts';

/** 'a' opens a user turn, 'b' an assistant turn, '?' ends a turn: 'a cc?b a?a bc' is three turns. */
export const TINY_DIALOGUE_FORMAT: DialogueFormat = { user: 'a', assistant: 'b', separator: '?' };

const TINY_DEMONSTRATION_STEPS = 150;

export function withTinyAdversary(loop: TinyLoop): TinyLoop {
  const { config } = loop.context, adversarial = config.adversarial;
  if (!adversarial) throw new Error('tiny adversary: the config has no adversarial block');
  const cells = redTeamCells(adversarial, () => 'Answer with many a.', TINY_DIALOGUE_FORMAT);
  const attacker = attackerPolicy({ base: tinyBase(2), tokenizer: new TinyTokenizer(), config: adversarial, cells, seed: config.seed });
  const rng = new Rng(config.seed), word = () => Array.from({ length: 1 + rng.int(3) }, () => 'abc'[rng.int(3)]).join('');
  const demonstrations = cells.filter((c) => c.dialogue).flatMap((cell) => Array.from({ length: 16 }, () => ({ cell,
    attack: renderDialogue([{ role: 'user', content: word() }, { role: 'assistant', content: word() }, { role: 'user', content: word() }], TINY_DIALOGUE_FORMAT) })));
  learnDemonstrations(attacker, { demonstrations, steps: 0, dialogueSteps: TINY_DEMONSTRATION_STEPS, seed: config.seed });
  const known = new Set(TINY_CONSTITUTION.principles.map((p) => p.id));
  const extra = adversarial.principles.filter((id) => !known.has(id));
  if (extra.length > 0) {
    const base = TINY_CONSTITUTION.principles[0]!;
    const constitution: Constitution = { ...TINY_CONSTITUTION, principles: [...TINY_CONSTITUTION.principles, ...extra.map((id) => ({ ...base, id }))] };
    const { labeler, labelerModel } = tinyLabeler({ seed: config.seed, principleMode: config.feedback.principleMode, chainOfThought: config.feedback.chainOfThought, constitution });
    loop = { context: { ...loop.context, labeler }, labelerModel };
  }
  loop.context.adversary = adversary({ config: adversarial, cells, attacker, promptsPerRound: config.promptsPerRound });
  return loop;
}
