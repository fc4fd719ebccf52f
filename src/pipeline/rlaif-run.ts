// `rlaif run` as a function (the CLI, the bench and the tests call it): parse and freeze the config, open (or resume)
// the run folder, build the policy, labeler, prompts and anchors, run the rounds, then write summary.json and
// report.html. Testbed mode adds the gold report on the test split. Leaves out argument parsing and progress bars
// (src/cli/run-command.ts). With `queue`, judgments and rollouts go to `rlaif worker`s (queue/judge-jobs.ts,
// queue/rollout-jobs.ts). Lee et al. 2023 (arXiv 2309.00267).
import { renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { precisionNotice } from '../algorithms/precision-config.ts';
import { lockRunFolder } from '../algorithms/run-folder.ts';
import { loadConstitution } from '../feedback/constitution.ts';
import { corpusSupport, testbedConstitution } from '../testbed/index.ts';
import { adversarialTable } from './adversarial/adversarial-report.ts';
import { setupAdversarial } from './adversarial/adversarial-setup.ts';
import { withHeldOutGold } from './adversarial/held-out.ts';
import { ATTACK_KINDS } from './adversarial/testbed-attacks.ts';
import { lengthBiased, type LoopLabeler } from './loop-labeler.ts';
import { loadTestbed, testbedAnchors } from './testbed-setup.ts';
import { localRateLimiter } from './queue/endpoint-rate-limit.ts';
import { JobQueue } from './queue/job-queue.ts';
import { queueLabeler, runIdOf } from './queue/judge-jobs.ts';
import { queueRollout, rolloutOnQueue } from './queue/rollout-jobs.ts';
import { labelerFromSpec, labelerSpec } from './run-labeler.ts';
import { parseRunConfig, readRunConfig, runConfigForDisk, type RunConfig } from './run-config.ts';
import { runLoop, type LoopOutcome, type ReportHook } from './run-loop.ts';
import { checkRunMachine } from './run-machine.ts';
import { writeHtmlReport, terminalTable } from './run-report.ts';
import { recordId } from './run-records.ts';
import { buildPolicy, loadCheckpoint, readAnchorPairs, readPromptFile, readReferenceText, splitPrompts } from './run-setup.ts';
import { RunStore } from './run-store.ts';
import { resultLines, summarizeRun, type RunSummary } from './run-summary.ts';
import { loopPrompt, testbedGoldHook } from './testbed-report.ts';
import { labelerCheckStage, weakLabelerWarning } from './labeler-check.ts';
import type { AnchorPair, LoopPrompt, ProgressEvent, RoundContext, RunPolicy } from './round-context.ts';
import { EndpointPolicy } from './endpoint-policy.ts';

export interface RlaifRunOptions {
  configPath?: string | null;   // YAML; null = every default (the embedded testbed)
  configText?: { text: string; source: string; baseDirectory: string }; // the YAML itself (rlaif ablation's variants), instead of configPath
  testbed?: { config?: unknown; cacheDirectory?: string };  // the testbed's own config and cache (tests build a tiny one); default: its defaults, .rlaif-cache
  seed?: number;                // overrides the config's seed
  out?: string;                 // the run folder (default runs/rlaif-run-seed<seed>)
  queue?: string | null;        // redis:// URL: judgments and rollouts go to `rlaif worker`s through BullMQ; null = in this process
  onProgress?: (event: ProgressEvent) => void;
  /** Diagnostics only (scripts/oracle-ceiling.ts): the labeler to use instead of the configured one, made from the
   * testbed (null without one); its name is recorded with every judgment. No config reaches it; not with `queue`
   * (the workers build the configured labeler). */
  replaceLabeler?: (testbed: Awaited<ReturnType<typeof loadTestbed>> | null) => LoopLabeler;
}

export interface RlaifRunResult {
  dir: string;
  config: Readonly<RunConfig>;
  outcome: LoopOutcome;
  summary: RunSummary;
  table: string;
  lines: string[];             // RESULT lines
  reportPath: string;
}

export async function rlaifRun(options: RlaifRunOptions = {}): Promise<RlaifRunResult> {
  const started = performance.now();
  const overrides = options.seed === undefined ? {} : { seed: options.seed };
  const config = options.configText
    ? parseRunConfig(options.configText.text, { source: options.configText.source, baseDirectory: options.configText.baseDirectory, overrides })
    : readRunConfig(options.configPath ?? null, overrides);
  if (options.replaceLabeler && options.queue) throw new Error('rlaif run: a replaced labeler runs in this process only; the queue\'s workers would judge with the configured one');
  const dir = resolve(options.out ?? join('runs', `rlaif-run-seed${config.seed}`));
  const precision = precisionNotice(config.algorithm.precision);
  if (precision) console.error(`rlaif run: algorithm.${precision}`);
  const lock = lockRunFolder(dir, { command: 'rlaif run' }); // a second process on this folder is refused, naming our pid
  let store: RunStore, queue: JobQueue | null = null;
  const closers: (() => void)[] = [];
  // config.json holds no credentials (runConfigForDisk); a resume compares the same redacted form.
  try { store = RunStore.open(dir, runConfigForDisk(config)); } catch (error) { lock.release(); throw error; }
  try {
    const machine = checkRunMachine(dir);   // the kernels this run computes with: recorded at its start, compared on a resume
    if (machine) console.error(machine);
    // A user's reference text is read before the testbed (minutes to build from nothing), so a bad path fails at once.
    const reference = config.feedback.corpusSupport > 0 && config.feedback.corpus ? readReferenceText(config.feedback.corpus, 'feedback.corpus') : null;
    const ptx = config.algorithm.pretrainCoef > 0 && config.algorithm.pretrainText ? readReferenceText(config.algorithm.pretrainText, 'algorithm.pretrainText') : null;
    const testbed = config.policy.kind === 'testbed' || config.labeler.kind === 'testbed' || config.prompts.kind === 'testbed'
      ? await loadTestbed({ seed: config.seed, labeler: config.labeler.kind === 'testbed' ? config.labeler.setup : 'self', ...options.testbed,
        onProgress: (e) => options.onProgress?.({ stage: `setup: ${e.stage}${e.model ? ` ${e.model}` : ''}`, round: 0, done: e.step, total: e.total }) })
      : null;
    let prompts: LoopPrompt[], hook: ((context: RoundContext) => ReportHook) | null = null;
    if (config.prompts.kind === 'testbed') {
      const { world, prompts: all } = testbed!;
      prompts = all.map(loopPrompt);
      const { test } = splitPrompts(prompts, config), testIds = new Set(test.map((p) => p.id));
      hook = (context) => {
        const gold = testbedGoldHook({ context, world, test: all.filter((p) => testIds.has(p.id)), proxyOnTest: true });
        if (!config.adversarial) return gold;
        const attacked = new Set(config.adversarial.principles.flatMap((id) => ATTACK_KINDS[id] ?? []));
        return withHeldOutGold(gold, { context, world, generator: all.filter((p) => testIds.has(p.id) && attacked.has(p.kind)) });
      };
    } else {
      prompts = await readPromptFile(config.prompts.path);
    }
    // The user's labeled anchors are read with the prompts, before any model loads, so a bad file fails at once.
    let userAnchors: AnchorPair[] | null = null;
    if (config.anchors) {
      const read = await readAnchorPairs(config.anchors, config.seed);
      userAnchors = read.pairs;
      if (read.skipped > 0) console.error(`rlaif run: anchors: ${read.skipped} of ${read.skipped + read.pairs.length} pairs in ${config.anchors.path} left out (a side that is not one assistant response, two equal texts, or a prompt that does not end on a user turn)`);
    }
    const policySource = config.policy.kind === 'testbed' ? testbed!.policyDirectory : config.policy.kind === 'checkpoint' ? config.policy.path : config.policy.checkpoint ?? undefined;
    const base = config.policy.kind === 'endpoint' ? null : loadCheckpoint(policySource!);
    const policy: RunPolicy = config.policy.kind === 'endpoint'
      ? new EndpointPolicy({ endpoint: { baseURL: config.policy.baseURL, model: config.policy.model, ...(config.policy.checkpoint ? { checkpoint: config.policy.checkpoint } : {}) },
        apiKeyEnvironmentVariable: config.policy.apiKeyEnvironmentVariable, maxNewTokens: config.maxNewTokens, temperature: config.temperature,
        requestsPerSecond: config.policy.requestsPerSecond, limiterFor: (_, perSecond) => localRateLimiter({ perSecond }) })
      : buildPolicy(config, base!, config.algorithm.pretrainCoef > 0 ? ptx ?? readReferenceText(testbed!.corpusPath, 'the testbed corpus') : undefined);
    closers.push(() => { if (policy.kind === 'endpoint') policy.close(); });
    const constitution = config.feedback.constitution ? loadConstitution(config.feedback.constitution)
      : config.prompts.kind === 'testbed' ? testbedConstitution() : loadConstitution();
    const spec = labelerSpec(config, constitution);
    let judging = await labelerFromSpec(spec, { testbed, limiterFor: (_, perSecond) => localRateLimiter({ perSecond }) });
    if (options.queue) {
      queue = await JobQueue.open({ url: options.queue, attempts: config.queue.attempts, backoffMs: config.queue.backoffMs });
      judging = await queueLabeler({ queue, run: runIdOf(dir, config), spec, identity: judging, parallelism: config.queue.parallelism });
    }
    if (options.replaceLabeler) judging = options.replaceLabeler(testbed);
    const labeler = lengthBiased(judging, config.labelerBias?.preferLonger ?? 0);
    if (config.schedule.some((r) => r.type === 'critique-revision')) {
      if (!labeler.revise) throw new Error(`schedule: critique-revision rounds need a labeler that critiques and revises; ${labeler.model} cannot`);
      const missing = config.labeler.kind === 'testbed' ? [] : constitution.principles.filter((p) => !p.critique || !p.revision).map((p) => p.id);
      if (missing.length > 0) throw new Error(`${config.feedback.constitution ?? 'the shipped constitution'}: principles ${missing.join(', ')} need 'critique' and 'revision' requests for the critique-revision rounds of schedule`);
    }
    const anchorSet: AnchorPair[] = userAnchors ?? (testbed && config.prompts.kind === 'testbed' ? testbedAnchors(testbed) : []);
    const anchors = anchorSet.slice(0, config.anchorPairs), labeledPairs = anchorSet.slice(config.anchorPairs);   // the gate's, then the labeled-data source's
    const { train, validation } = splitPrompts(prompts, config);
    const context: RoundContext = { config, store, policy, labeler, train, validation, anchors, labeledPairs, policySource, onProgress: options.onProgress };
    if (config.feedback.corpusSupport > 0) context.corpusSupport = corpusSupport(reference ?? readReferenceText(testbed!.corpusPath, 'the testbed corpus'));
    if (queue) {
      const stays = rolloutOnQueue(policy);
      if (stays) console.error(`rlaif run --queue: rollouts stay in this process: ${stays}; judgments go to the workers`);
      else context.rollout = queueRollout({ queue, run: runIdOf(dir, config), rowsPerJob: config.rolloutBatchRows, onProgress: options.onProgress });
    }
    const setupId = recordId('stage', { round: -1, stage: 'setup' });
    if (!store.get('stage', setupId)) store.put({ id: setupId, kind: 'stage', round: -1, parents: [], stage: 'setup', ms: performance.now() - started, detail: {} });
    const warning = weakLabelerWarning(await labelerCheckStage(context), labeler.model, config.gate);
    if (warning) console.error(warning);
    if (base) await setupAdversarial(context, { base, constitution, testbed: config.prompts.kind === 'testbed' ? testbed : null });
    const outcome = await runLoop(context, hook ? hook(context) : undefined);
    store.commit();
    const summary = summarizeRun(store);
    writeFileSync(join(dir, 'summary.json.tmp'), `${JSON.stringify(summary, null, 2)}\n`);
    renameSync(join(dir, 'summary.json.tmp'), join(dir, 'summary.json'));
    const reportPath = writeHtmlReport(store, summary);
    const table = config.adversarial ? `${terminalTable(store)}\n\n${adversarialTable(store, { threshold: config.adversarial.failureThreshold })}` : terminalTable(store);
    return { dir, config, outcome, summary, table, lines: resultLines(summary), reportPath };
  } finally {
    for (const close of closers) close();
    store.close();
    await queue?.close();
    lock.release();
  }
}
