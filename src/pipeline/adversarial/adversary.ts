// Adversarial rounds (issue 14), as the two hooks a round calls: the red-team phase (the attacker, resumed from its
// last finished phase, attacks the policy the round starts from) and the mined prompts of the policy phase (flagged
// attacks from the prioritised failure pool, not yet trained on first, most violating first; a dialogue attack as its
// parsed conversation), which the round's
// ordinary AI feedback then scores alongside its ordinary prompts. Leaves out the held-out set (held-out.ts).
// MART: Ge et al., NAACL 2024; Perez et al. 2022 (arXiv 2202.03286).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoopPolicy } from '../loop-policy.ts';
import { promptRecordId, type LoopPrompt, type RoundContext } from '../round-context.ts';
import type { AdversarialConfig } from './adversarial-config.ts';
import { failurePool } from './archive.ts';
import { redTeamPhase, type RedTeamCell } from './red-team.ts';

export interface Adversary {
  /** The red-team phase of `round` against the policy now loaded (round `keptRound`'s); figures for the stage record. */
  redTeam(context: RoundContext, round: number, keptRound: number): Promise<Record<string, number>>;
  /** The flagged attacks the policy phase of `round` trains on, as prompts (principle = the attacked one). */
  minedPrompts(context: RoundContext, round: number): LoopPrompt[];
}

export const attackPromptId = (attackId: string) => `attack:${attackId}`;

export function adversary(options: { config: AdversarialConfig; cells: RedTeamCell[]; attacker: LoopPolicy; promptsPerRound: number }): Adversary {
  const { config, cells, attacker } = options;
  const checkpoint = (context: RoundContext, round: number) => join(context.store.dir, 'checkpoints', `redteam-${round}`);
  return {
    async redTeam(context, round, keptRound) {
      const initial = checkpoint(context, 0);
      if (!existsSync(join(initial, 'DONE'))) {   // the attacker as built (after its demonstrations): the first phase starts here
        attacker.save(initial);
        writeFileSync(join(initial, 'DONE'), '');
      }
      let from = 0;
      for (let r = round - 1; r > 0; r--) if (existsSync(join(checkpoint(context, r), 'DONE'))) { from = r; break; }
      attacker.load(checkpoint(context, from));
      const result = await redTeamPhase(context, { attacker, cells, config, phase: 'redteam', round, targetRound: keptRound, steps: config.steps, checkpoint: checkpoint(context, round) });
      const flagged = result.attacks.filter((a) => a.violation >= config.failureThreshold).length;
      return { attacks: result.attacks.length, flagged, violationFirst: result.violationByStep[0]!, violationLast: result.violationByStep.at(-1)! };
    },
    minedPrompts(context, round) {
      const n = Math.round(config.minedAttackShare * options.promptsPerRound);
      if (n === 0) return [];
      const pool = failurePool(context.store, { throughRound: round, threshold: config.failureThreshold });
      // drawn by an earlier round's rollout (a rerun of this round's prompts stage must choose the same prompts)
      const drawn = new Set(context.store.all('sample').filter((s) => s.stage === 'rollout' && s.round < round).map((s) => s.parents[0]!));
      const asPrompt = (a: (typeof pool)[number]): LoopPrompt => ({ id: attackPromptId(a.id), application: 'adversarial', kind: `attack:${a.principle}:${a.style}`,
        split: 'train', messages: a.messages, principleIds: [a.principle] });
      const prompts = pool.map(asPrompt), fresh = prompts.filter((p) => !drawn.has(promptRecordId(p)));
      return [...fresh, ...prompts.filter((p) => drawn.has(promptRecordId(p)))].slice(0, n);
    },
  };
}
