// The loop of `rlaif run`: evaluate the starting (SFT) policy as round 0, then rounds until a stop rule fires, each
// starting from the last kept round's checkpoint (a rolled-back round leaves nothing behind but its records). Resumes
// from the store after kill -9: rounds with a gate record are done, the next one picks up stage by stage. An optional
// report hook (testbed mode: gold on the test split) runs after each round; its figures go to gold records the gate
// never reads. Round types (RL, critique-revision) are round.ts's. Self-Rewarding LMs (arXiv 2401.10020) iterate the same way.
import { stopReason, type ProxyMetrics, type RoundOutcome } from './gates.ts';
import { evaluateStage, gateStage } from './round-evaluate.ts';
import { promptRecord, type RoundContext, type RunPolicy } from './round-context.ts';
import { runRound } from './round.ts';
import { recordId, type GateRecord, type GoldDisagreement } from './run-records.ts';

export interface ReportHook {
  /** Figures for the report about the policy now loaded (round `round`'s candidate); never fed back to the loop. */
  afterRound(round: number, policy: RunPolicy): Promise<{ metrics: Record<string, number>; disagreements: GoldDisagreement[] }>;
}

export interface LoopOutcome {
  gates: GateRecord[];         // one per round, round 0 (SFT) first
  keptRound: number;           // the final policy
  stopReason: string;
}

/** Milliseconds spent on `round` by its stage records (first complete attempt of each stage). */
function roundMs(context: RoundContext, round: number): number {
  return context.store.all('stage').filter((s) => s.round === round).reduce((a, s) => a + s.ms, 0);
}

async function report(context: RoundContext, hook: ReportHook | undefined, round: number): Promise<void> {
  const id = recordId('gold', { round });
  if (!hook || context.store.get('gold', id)) return;
  context.onProgress?.({ stage: 'report', round, done: 0, total: 1 });
  const start = performance.now();
  const { metrics, disagreements } = await hook.afterRound(round, context.policy);
  context.store.put({ id, kind: 'gold', round, parents: [recordId('gate', { round })], metrics, disagreements });
  context.store.put({ id: recordId('stage', { round, stage: 'report' }), kind: 'stage', round, parents: [], stage: 'report', ms: performance.now() - start, detail: {} });
  context.store.commit();
}

export async function runLoop(context: RoundContext, hook?: ReportHook): Promise<LoopOutcome> {
  const { store, policy, config } = context;
  for (const prompt of context.validation) store.put(promptRecord(prompt));
  const initial = store.checkpointDir(0);
  if (!store.get('gate', recordId('gate', { round: 0 }))) {
    policy.save(initial);
    const start = performance.now();
    const metrics: ProxyMetrics = await evaluateStage(context, 0, 0);
    gateStage(context, 0, metrics, 0);
    store.put({ id: recordId('stage', { round: 0, stage: 'evaluate' }), kind: 'stage', round: 0, parents: [], stage: 'evaluate', ms: performance.now() - start, detail: {} });
    store.commit();
  }
  for (const gate of store.all('gate')) {            // a resumed run: report rounds gated before the kill
    if (hook && !store.get('gold', recordId('gold', { round: gate.round }))) {
      policy.load(store.checkpointDir(gate.round));
      await report(context, hook, gate.round);
    }
  }
  const outcomes = (): RoundOutcome[] => store.all('gate').map((g) => ({ round: g.round, keep: g.keep,
    winRateVsPrevious: (store.get('evaluation', recordId('evaluation', { round: g.round }))?.metrics.winRateVsPrevious as number | undefined) ?? 0.5,
    ms: roundMs(context, g.round) }));
  let reason: string | null = null;
  for (;;) {
    const gates = store.all('gate'), last = gates.at(-1)!;
    const round = last.round + 1;
    reason = stopReason(outcomes(), round, config);
    if (reason) break;
    policy.load(store.checkpointDir(last.keptRound));
    await runRound(context, round, last.keptRound);
    await report(context, hook, round);
  }
  const gates = [...store.all('gate')];
  return { gates, keptRound: gates.at(-1)!.keptRound, stopReason: reason };
}
