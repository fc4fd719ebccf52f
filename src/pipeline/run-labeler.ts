// The labeler of a run as data (LabelerSpec: the labeler config, its judging settings, the constitution's text) and
// the one function that builds it — used by `rlaif run` in its own process and by every `rlaif worker`, so a judgment
// made on a worker is the judgment the run would have made itself. An endpoint with a request limit gets a limiter
// (shared in Redis on workers, in memory otherwise). Leaves out the length-bias demonstration (applied by the run on
// top, never on workers). Lee et al. 2023 (arXiv 2309.00267).
import type { Constitution } from '../feedback/constitution.ts';
import { stableHash } from '../feedback/stable-hash.ts';
import type { BuiltTestbed } from '../testbed/index.ts';
import type { LoopLabeler } from './loop-labeler.ts';
import { rateLimitedProvider, type RateLimiter } from './queue/endpoint-rate-limit.ts';
import type { RunConfig } from './run-config.ts';
import { buildLabeler, labelerProvider } from './run-setup.ts';
import { loadTestbed, testbedLabeler } from './testbed-setup.ts';

export interface LabelerSpec {
  labeler: RunConfig['labeler'];
  seed: number;
  principleMode: RunConfig['feedback']['principleMode'];
  chainOfThought: boolean;
  constitution: Constitution | null;   // null for the testbed labeler (it judges under each prompt's testbed principle)
}

export function labelerSpec(config: Readonly<RunConfig>, constitution: Constitution | null): LabelerSpec {
  return { labeler: config.labeler, seed: config.seed, principleMode: config.feedback.principleMode, chainOfThought: config.feedback.chainOfThought,
    constitution: config.labeler.kind === 'testbed' ? null : constitution };
}

export function specHash(spec: LabelerSpec): string {
  return stableHash(spec).slice(0, 24);
}

export interface BuildLabelerOptions {
  testbed?: BuiltTestbed | null;                          // already built (the run's own); else built or read from the cache
  limiterFor?: (endpoint: string, perSecond: number) => RateLimiter;
}

export async function labelerFromSpec(spec: LabelerSpec, options: BuildLabelerOptions = {}): Promise<LoopLabeler> {
  const labeler = spec.labeler;
  if (labeler.kind === 'testbed') {
    const testbed = options.testbed ?? await loadTestbed({ seed: spec.seed, labeler: labeler.setup });
    return testbedLabeler(testbed, spec.seed, labeler.compare);
  }
  if (!spec.constitution) throw new Error(`labeler ${labeler.kind}: the spec has no constitution`);
  let provider = labelerProvider({ labeler }, null);
  if (labeler.kind === 'openai-compatible' && labeler.requestsPerSecond !== null && options.limiterFor) {
    provider = rateLimitedProvider(provider, options.limiterFor(`${labeler.baseURL}|${labeler.model}`, labeler.requestsPerSecond));
  }
  return buildLabeler({ feedback: { principleMode: spec.principleMode, chainOfThought: spec.chainOfThought }, seed: spec.seed }, provider, spec.constitution);
}
