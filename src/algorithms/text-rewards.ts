// Programmatic text rewards by name, for policy-gradient runs on real tokenizers (the CLI's `reward:` key):
//   length-window {min, max}: 1 inside [min, max] characters, falling linearly to 0 at 0 and at 2·max;
//   contains {text}: 1 when the response contains text, else 0;
//   regex {pattern, flags?}: 1 when the response matches the JavaScript regular expression, else 0.
// Leaves out: model-based rewards (reward-sources.ts has reward models and judges), partial-credit formats.
import { programmaticReward, type RewardSource } from './reward-sources.ts';

export type TextRewardSpec =
  | { name: 'length-window'; min: number; max: number }
  | { name: 'contains'; text: string }
  | { name: 'regex'; pattern: string; flags?: string };

/** Reward of a length n in characters for a window [min, max]. */
export function lengthWindowReward(n: number, min: number, max: number): number {
  if (n >= min && n <= max) return 1;
  if (n < min) return min === 0 ? 1 : n / min;
  return Math.max(0, 1 - (n - max) / Math.max(max, 1));
}

/** The named reward as a RewardSource; a bad pattern or window is an error naming the field. */
export function textReward(spec: TextRewardSpec): RewardSource {
  switch (spec.name) {
    case 'length-window':
      if (!(spec.min >= 0 && spec.max >= spec.min)) throw new Error(`reward length-window: need 0 ≤ min ≤ max, got min ${spec.min}, max ${spec.max}`);
      return programmaticReward(`length-window[${spec.min},${spec.max}]`, (_prompt, response) => lengthWindowReward(response.length, spec.min, spec.max));
    case 'contains':
      return programmaticReward(`contains(${JSON.stringify(spec.text)})`, (_prompt, response) => (response.includes(spec.text) ? 1 : 0));
    case 'regex': {
      let re: RegExp;
      try { re = new RegExp(spec.pattern, spec.flags); } catch (error) { throw new Error(`reward regex: field 'pattern': ${(error as Error).message}`); }
      return programmaticReward(`regex(/${spec.pattern}/${spec.flags ?? ''})`, (_prompt, response) => { re.lastIndex = 0; return re.test(response) ? 1 : 0; });
    }
  }
}
