// `rlaif testbed build|audit`: builds the embedded testbed (world, splits, corpus, models; cached by content hash)
// and audits it: the labeler against gold on pairs sampled from the SFT policy on test prompts, and the SFT policy's
// gold failure rates, as `RESULT <name> <value>` lines and audit.json. Leaves out the RLAIF loop (`rlaif run`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { plainProgress } from './plain-progress.ts';
import type { Command } from 'commander';
import { formatAudit } from '../feedback/labeler-audit.ts';
import { auditTestbed, buildTestbed, readTestbedConfigFile, type BuildEvent, type BuiltTestbed, type LabelerSetup } from '../testbed/index.ts';

interface CommonOptions { seed: string; cache: string; labeler: string; config?: string }
interface AuditOptions extends CommonOptions { out?: string; maxPrompts?: string; judge: string }

function parseCommon(options: CommonOptions): { seed: number; labeler: LabelerSetup; config: unknown } {
  const config = options.config ? readTestbedConfigFile(options.config) : {};
  const seed = Number(options.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got "${options.seed}"`);
  if (options.labeler !== 'self' && options.labeler !== 'separate') throw new Error(`--labeler must be self or separate, got "${options.labeler}"`);
  return { seed, labeler: options.labeler, config };
}

/** The build's progress events as plain lines (plain-progress.ts), the loss beside each. */
function plainBuildProgress(write: (line: string) => void, now?: () => number): (event: BuildEvent) => void {
  const line = plainProgress(write, 'testbed build', now);
  return (event) => line(event.stage, event.step, event.total, event.loss === undefined ? undefined : `loss ${event.loss.toFixed(3)}`);
}

/** Builds with one progress bar per stage (stage names as the build reports them); plain lines when not on a terminal. */
async function buildWithProgress(seed: number, labeler: LabelerSetup, cache: string, config: unknown): Promise<{ testbed: BuiltTestbed; seconds: number }> {
  const started = performance.now();
  if (!process.stderr.isTTY) {
    const testbed = await buildTestbed({ seed, labeler, cacheDirectory: cache, config, onProgress: plainBuildProgress((line) => process.stderr.write(`${line}\n`)) });
    return { testbed, seconds: (performance.now() - started) / 1000 };
  }
  const bars = new cliProgress.MultiBar({ format: '{stage} [{bar}] {value}/{total} {loss}', hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
  const byStage = new Map<string, cliProgress.SingleBar>();
  const onProgress = (event: BuildEvent) => {
    let bar = byStage.get(event.stage);
    if (!bar) { bar = bars.create(event.total, 0, { stage: event.stage.padEnd(18), loss: '' }); byStage.set(event.stage, bar); }
    bar.update(event.step, { loss: event.loss === undefined ? '' : `loss ${event.loss.toFixed(3)}` });
  };
  try {
    const testbed = await buildTestbed({ seed, labeler, cacheDirectory: cache, config, onProgress });
    return { testbed, seconds: (performance.now() - started) / 1000 };
  } finally {
    bars.stop();
  }
}

export function registerTestbedCommand(program: Command): void {
  const testbed = program.command('testbed').description('the embedded testbed: a world with known truth, gold checkers and small models that judge their own outputs');
  const common = (command: Command) => command
    .option('--seed <n>', 'world seed', '0')
    .option('--cache <dir>', 'where built models are cached (by content hash)', '.rlaif-cache')
    .option('--labeler <setup>', 'self (the policy judges its own outputs) or separate (a labeler model of its own: larger by default, or a copy of the policy, labeler.init)', 'self')
    .option('--config <file>', 'YAML/JSON testbed config overriding defaults (testbedConfigSchema: world, flawRates, judging, anchor, policy, labeler)');
  common(testbed.command('build').description('make the world, corpus, splits and models (cached; a second build takes seconds)'))
    .action(async (options: CommonOptions) => {
      const { seed, labeler, config } = parseCommon(options);
      const { testbed: built, seconds } = await buildWithProgress(seed, labeler, options.cache, config);
      console.log(`testbed seed ${seed} (${labeler} labeler) ${built.fromCache ? 'from the cache' : 'built'} in ${seconds.toFixed(1)} s: ${built.directory}`);
      console.log(`  policy: ${built.policyDirectory}\n  labeler: ${built.labelerDirectory}`);
      console.log(`  prompts: ${built.prompts.length} (${['train', 'validation', 'test'].map((s) => `${s} ${built.prompts.filter((p) => p.split === s).length}`).join(', ')}); labeled budget ${built.manifest.labeledBudget.total}`);
      console.log(`RESULT testbed_build_s ${seconds.toFixed(1)}`);
    });
  common(testbed.command('audit').description('judge pairs sampled from the SFT policy on test prompts with the labeler; compare with gold'))
    .option('--out <dir>', 'folder for audit.json (default runs/testbed-audit-seed<N>-<labeler>)')
    .option('--max-prompts <n>', 'audit at most this many test prompts (default all)')
    .option('--judge <kind>', 'pairwise: both answers shown at once, both orders; pointwise: each answer rated alone, the pair from the two ratings (direct RLAIF); the other is audited on the same pairs too (RESULT labeler_<other>_*)', 'pairwise')
    .action(async (options: AuditOptions) => {
      const { seed, labeler, config } = parseCommon(options);
      const maxPrompts = options.maxPrompts === undefined ? undefined : Number(options.maxPrompts);
      if (maxPrompts !== undefined && !(Number.isInteger(maxPrompts) && maxPrompts > 0)) throw new Error(`--max-prompts must be a positive integer, got "${options.maxPrompts}"`);
      if (options.judge !== 'pointwise' && options.judge !== 'pairwise') throw new Error(`--judge must be pointwise or pairwise, got "${options.judge}"`);
      const other = options.judge === 'pairwise' ? 'pointwise' : 'pairwise';
      const out = resolve(options.out ?? join('runs', `testbed-audit-seed${seed}-${labeler}`));
      const { testbed: built, seconds: loadSeconds } = await buildWithProgress(seed, labeler, options.cache, config);
      const bar = new cliProgress.SingleBar({ format: '{stage} [{bar}] {value}/{total}', noTTYOutput: !process.stderr.isTTY, notTTYSchedule: 5000 }, cliProgress.Presets.shades_classic);
      let stage = '';
      const audit = await auditTestbed({
        world: built.world, prompts: built.prompts, policyDirectory: built.policyDirectory, labelerDirectory: built.labelerDirectory, corpusPath: built.corpusPath, judge: options.judge, alsoJudge: other, seed, maxPrompts,
        onProgress: (name, done, total) => {
          if (name !== stage) { if (stage) bar.stop(); stage = name; bar.start(total, 0, { stage: name.padEnd(8) }); }
          bar.update(done);
        },
      }).finally(() => bar.stop());
      const l = audit.labeler;
      const decided = audit.pairs.passFail + audit.pairs.bothFail + audit.pairs.bothPass;
      const results: Record<string, number | null> = {
        labeler_gold_agreement: l.accuracy, labeler_gold_agreement_ci_low: l.accuracyInterval?.[0] ?? null,
        labeler_gold_agreement_ci_high: l.accuracyInterval?.[1] ?? null, labeler_kappa: l.cohenKappa, labeler_same_position_rate: l.samePositionPreferred,
        labeler_ece: l.expectedCalibrationError, labeler_tie_rate: l.tieRate, labeler_gold_agreement_pass_fail: audit.passFailLabeler.accuracy,
        labeler_gold_agreement_graded: audit.gradedLabeler.accuracy, audit_pass_fail_share: decided > 0 ? audit.pairs.passFail / decided : null,
        policy_certainty_gold_agreement: audit.policyCertainty.agreement,
        sft_hallucination_rate: audit.sft.hallucination, sft_harmful_compliance_rate: audit.sft.harmfulCompliance,
        sft_over_refusal_rate: audit.sft.overRefusal, sft_coherence_error_rate: audit.sft.coherenceError,
        sft_fact_recall_train: audit.sftFactRecall.bySplit.train.rate, sft_fact_recall_validation: audit.sftFactRecall.bySplit.validation.rate,
        sft_fact_recall_test: audit.sftFactRecall.bySplit.test.rate, fact_recall_chance: audit.sftFactRecall.chance,
        testbed_build_s: built.manifest.buildSeconds, testbed_audit_s: audit.seconds,
      };
      for (const [application, audited] of Object.entries(audit.labelerByApplication)) results[`labeler_gold_agreement_${application.replaceAll('-', '_')}`] = audited.accuracy;
      if (audit.other) {
        const o = audit.other.labeler;
        Object.assign(results, { [`labeler_${other}_gold_agreement`]: o.accuracy, [`labeler_${other}_kappa`]: o.cohenKappa, [`labeler_${other}_same_position_rate`]: o.samePositionPreferred, [`labeler_${other}_ece`]: o.expectedCalibrationError });
      }
      console.log(formatAudit(l));
      if (audit.other) console.log(`\nthe ${other} judge on the same pairs:\n${formatAudit(audit.other.labeler)}`);
      console.log(`pairs: ${audit.pairs.sampled} test prompts, ${audit.pairs.identical} identical samples skipped, ${audit.pairs.judged} judged, ${audit.pairs.goldTies} gold ties`);
      console.log(`gold-labeled pairs: ${audit.pairs.passFail} where one answer passes gold and the other fails (agreement there ${audit.passFailLabeler.accuracy === null ? 'n/a' : `${(audit.passFailLabeler.accuracy * 100).toFixed(1)}%`}), ${audit.pairs.bothFail} where both fail and ${audit.pairs.bothPass} where both pass (gold ranks those by its graded score; agreement there ${audit.gradedLabeler.accuracy === null ? 'n/a' : `${(audit.gradedLabeler.accuracy * 100).toFixed(1)}%`})`);
      const percentOf = (value: number | null) => (value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`);
      console.log(`the SFT policy's own certainty, no judging (the answer it finds likelier): agreement with gold ${percentOf(audit.policyCertainty.agreement)} of ${audit.policyCertainty.judged} pairs, a baseline the labeler should beat`);
      console.log(`labeler-gold agreement by application: ${Object.entries(audit.labelerByApplication).map(([k, a]) => `${k} ${percentOf(a.accuracy)} of ${a.labeled} pairs`).join(', ')}`);
      console.log(`SFT gold failure rate by application: ${Object.entries(audit.sft.byApplication).map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`).join(', ')}`);
      const recall = audit.sftFactRecall;
      console.log(`world facts the SFT policy knows (the corpus's sentence with the true value scored above every other): ${(['train', 'validation', 'test'] as const).map((s) => `${s} creatures ${percentOf(recall.bySplit[s].rate)} of ${recall.bySplit[s].total}`).join(', ')}; chance ${percentOf(recall.chance)}`);
      console.log(`testbed: ${built.fromCache ? 'from the cache' : 'built'} in ${loadSeconds.toFixed(1)} s (from nothing: ${built.manifest.buildSeconds.toFixed(1)} s)`);
      for (const [name, value] of Object.entries(results)) console.log(`RESULT ${name} ${value === null ? 'n/a' : value.toFixed(4)}`);
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'audit.json'), `${JSON.stringify({ seed, labeler, judge: options.judge, results, audit, testbed: { directory: built.directory, manifest: built.manifest } }, null, 2)}\n`);
      console.log(`wrote ${join(out, 'audit.json')}`);
      if (l.judged === 0) throw new Error('the labeler judged no pair: every judgment failed (see audit.json)');
    });
}
