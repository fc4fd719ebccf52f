import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { applicationRegression, applicationWinRates, decideGate, normalQuantile, wilsonLowerBound, entropyCollapse, entropyRise, klBudget, lengthDrift, proxyUpAnchorDown, refusalCollapse, refusalCreep, stopReason, type ProxyMetrics } from './gates.ts';
import { parseRunConfig } from './run-config.ts';

const config = parseRunConfig(null);
const sft: ProxyMetrics = { winRateVsPrevious: 0.5, winRateVsSft: 0.5, anchorAgreement: 0.7, kl: 0, meanLength: 20, entropy: 2, refusalRate: 0.1 };
const good: ProxyMetrics = { ...sft, winRateVsPrevious: 0.62, winRateVsSft: 0.62, kl: 3, meanLength: 21, entropy: 1.8, anchorAgreement: 0.72 };

test('a better candidate with nothing drifting is kept', () => {
  assert.deepEqual(decideGate(good, sft, sft, config.gate), { keep: true, reasons: [] });
});

test('a labeler that failed its anchor check keeps no round, however well the round did; 0 turns each part off', () => {
  const strong = { ...good, winRateVsPrevious: 0.9, validationPairs: 48 };
  const trusted = { agreement: 0.75, informative: 0.8, judged: 64, pairs: 64 }, weak = { agreement: 0.34, informative: 0.8, judged: 64, pairs: 64 };
  const leansNowhere = { agreement: 0.67, informative: 0.05, judged: 64, pairs: 64 }; // seed 1's embedded labeler
  assert.equal(decideGate(strong, sft, sft, config.gate, trusted).keep, true);
  const refused = decideGate(strong, sft, sft, config.gate, weak);
  assert.equal(refused.keep, false);
  assert.match(refused.reasons[0]!, /^labeler-untrusted: .*0\.340 of 64 anchor pairs .*< gate\.minLabelerAgreement 0\.6/);
  const flat = decideGate(strong, sft, sft, config.gate, leansNowhere);
  assert.equal(flat.keep, false);
  assert.match(flat.reasons[0]!, /^labeler-untrusted: the labeler leaned at least 0\.05 either way on only 0\.050 of them \(< gate\.minLabelerInformative 0\.5\)/);
  assert.match(decideGate(strong, sft, sft, config.gate, { agreement: Number.NaN, informative: Number.NaN, judged: 0, pairs: 64 }).reasons[0]!, /^labeler-untrusted: .*none of the 64 anchor pairs/);
  assert.equal(decideGate(strong, sft, sft, { ...config.gate, minLabelerAgreement: 0 }, weak).keep, true, 'agreement part off');
  assert.equal(decideGate(strong, sft, sft, { ...config.gate, minLabelerInformative: 0 }, leansNowhere).keep, true, 'leaning part off');
  assert.equal(decideGate(strong, sft, sft, config.gate, null).keep, true, 'no anchors, no check');
});

test('each monitor fires on its own drift and names it; the gate rolls back with every reason', () => {
  assert.equal(lengthDrift({ ...good, meanLength: 25 }, sft, sft, config.gate)?.monitor, 'length-drift');
  assert.equal(lengthDrift({ ...good, meanLength: 15 }, sft, sft, config.gate)?.monitor, 'length-drift');
  assert.equal(lengthDrift({ ...good, meanLength: 23.9 }, sft, sft, config.gate), null);
  assert.equal(klBudget({ ...good, kl: 21 }, sft, sft, config.gate)?.monitor, 'kl-budget');
  assert.equal(klBudget({ ...good, kl: 19 }, sft, sft, config.gate), null);
  assert.equal(entropyCollapse({ ...good, entropy: 0.9 }, sft, sft, config.gate)?.monitor, 'entropy-collapse');
  assert.equal(entropyCollapse({ ...good, entropy: 1.1 }, sft, sft, config.gate), null);
  assert.equal(entropyRise({ ...good, entropy: 2.6 }, sft, sft, config.gate)?.monitor, 'entropy-rise');
  assert.match(entropyRise({ ...good, entropy: 2.6 }, sft, sft, config.gate)!.reason, /2\.600 > 1\.25 × SFT's 2\.000/);
  assert.equal(entropyRise({ ...good, entropy: 2.4 }, sft, sft, config.gate), null);
  assert.equal(entropyRise({ ...good, entropy: 3.1 }, sft, sft, { ...config.gate, maxEntropyRatio: 0 }), null, '0 turns it off');
  assert.equal(decideGate({ ...good, entropy: 3.1 }, sft, sft, config.gate).keep, false);
  assert.equal(refusalCreep({ ...good, refusalRate: 0.25 }, sft, sft, config.gate)?.monitor, 'refusal-creep');
  assert.equal(refusalCreep({ ...good, refusalRate: 0.15 }, sft, sft, config.gate), null);
  assert.equal(refusalCollapse({ ...good, refusalRate: 0 }, sft, sft, config.gate)?.monitor, 'refusal-collapse');
  assert.equal(refusalCollapse({ ...good, refusalRate: 0.05 }, sft, sft, config.gate), null);
  assert.equal(refusalCollapse({ ...good, refusalRate: 0 }, sft, { ...sft, refusalRate: 0 }, config.gate), null);
  assert.equal(decideGate({ ...good, refusalRate: 0 }, sft, sft, config.gate).keep, false);
  const kept = { ...good, winRateVsSft: 0.6, anchorAgreement: 0.8 };
  assert.equal(proxyUpAnchorDown({ ...good, winRateVsSft: 0.7, anchorAgreement: 0.65 }, kept, sft, config.gate)?.monitor, 'proxy-up-anchor-down');
  assert.equal(proxyUpAnchorDown({ ...good, winRateVsSft: 0.55, anchorAgreement: 0.65 }, kept, sft, config.gate), null, 'proxy did not rise');
  assert.equal(proxyUpAnchorDown({ ...good, winRateVsSft: 0.7, anchorAgreement: Number.NaN }, kept, sft, config.gate), null, 'no anchors, no finding');
  const hacked = decideGate({ ...good, winRateVsPrevious: 0.4, meanLength: 40 }, sft, sft, config.gate);
  assert.equal(hacked.keep, false);
  assert.deepEqual(hacked.reasons.map((r) => r.split(':')[0]), ['win-rate', 'length-drift']);
});

test('the win rate is tested: a Wilson lower bound at gate.winRateConfidence must reach the threshold', () => {
  // reference values: z(0.975) = 1.959964, z(0.8) = 0.841621; the Wilson 95% interval of 27/48 starts at 0.42275 (by hand:
  // (0.5625 + 3.8416/96 - 1.96 sqrt(0.5625 · 0.4375 / 48 + 3.8416/9216)) / (1 + 3.8416/48))
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-6);
  assert.ok(Math.abs(normalQuantile(0.8) - 0.841621) < 1e-6);
  assert.ok(Math.abs(normalQuantile(0.01) + 2.326348) < 1e-6);
  assert.ok(Math.abs(wilsonLowerBound(27 / 48, 48, 0.975) - 0.42275) < 5e-5);
  assert.throws(() => normalQuantile(1), /p must be in \(0, 1\), got 1/);
  assert.equal(config.gate.winRateConfidence, 0.8);
  // 48 validation prompts at 0.8: 27 wins (0.5625) pass, 26 (0.5417) do not; an exact tie never does
  assert.equal(decideGate({ ...good, winRateVsPrevious: 27 / 48, validationPairs: 48 }, sft, sft, config.gate).keep, true);
  const narrow = decideGate({ ...good, winRateVsPrevious: 26 / 48, validationPairs: 48 }, sft, sft, config.gate);
  assert.equal(narrow.keep, false);
  assert.match(narrow.reasons[0]!, /^win-rate: .* on 0\.542 of 48 validation prompts; at 0\.8 confidence the rate is only known to be above 0\.481 \(< 0\.5\)$/);
  assert.equal(decideGate({ ...good, winRateVsPrevious: 0.5, validationPairs: 48 }, sft, sft, config.gate).keep, false);
  // more prompts narrow the interval: 0.5417 passes over 480
  assert.equal(decideGate({ ...good, winRateVsPrevious: 0.5417, validationPairs: 480 }, sft, sft, config.gate).keep, true);
  // 0 compares the observed rate (the old gate); so does an evaluation recorded without its count
  assert.equal(decideGate({ ...good, winRateVsPrevious: 0.5, validationPairs: 48 }, sft, sft, { ...config.gate, winRateConfidence: 0 }).keep, true);
  assert.equal(decideGate({ ...good, winRateVsPrevious: 0.5 }, sft, sft, config.gate).keep, true);
});

test('a labeler at chance: the tested gate keeps about a fifth of no-better rounds, the untested one over half', () => {
  let seed = 12345;
  const coin = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed < 2 ** 31 ? 1 : 0; };
  const keptShare = (confidence: number) => {
    let kept = 0;
    for (let trial = 0; trial < 2000; trial++) {
      let wins = 0;
      for (let i = 0; i < 48; i++) wins += coin();
      if (decideGate({ ...good, winRateVsPrevious: wins / 48, validationPairs: 48 }, sft, sft, { ...config.gate, winRateConfidence: confidence }).keep) kept++;
    }
    return kept / 2000;
  };
  const tested = keptShare(0.8), untested = keptShare(0);
  assert.ok(tested > 0.15 && tested < 0.3, `tested gate kept ${tested}`);   // P(Binomial(48, ½) ≥ 27) = 0.235
  assert.ok(untested > 0.5 && untested < 0.65, `untested gate kept ${untested}`); // P(≥ 24) = 0.557
});

test('the gate never reads gold: gates.ts imports nothing from the testbed and its metrics have no gold field', () => {
  const source = readFileSync(new URL('./gates.ts', import.meta.url), 'utf8');
  assert.doesNotMatch(source, /from '\.\.\/testbed/);
  assert.doesNotMatch(source.replace(/\/\/.*$/gm, ''), /gold/i);
});

test('the loop stops on the round budget, on N rollbacks in a row, on convergence, on time', () => {
  const c = { rounds: 5, stop: { ...config.stop, maxRollbacks: 2, convergenceRounds: 2, minGain: 0.02, maxSeconds: 100 } };
  const r = (round: number, keep: boolean, win = 0.6, ms = 1000) => ({ round, keep, winRateVsPrevious: win, ms });
  assert.equal(stopReason([r(0, true)], 1, c), null);
  assert.match(stopReason([r(0, true)], 6, c) ?? '', /^budget: 5 rounds/);
  assert.equal(stopReason([r(0, true), r(1, false), r(2, true), r(3, false)], 4, c), null);
  assert.match(stopReason([r(0, true), r(1, false), r(2, false)], 3, c) ?? '', /^rollbacks/);
  assert.match(stopReason([r(0, true), r(1, true, 0.51), r(2, true, 0.515)], 3, c) ?? '', /^converged/);
  assert.equal(stopReason([r(0, true), r(1, true, 0.51), r(2, true, 0.6)], 3, c), null);
  assert.match(stopReason([r(0, true, 0.5, 101_000)], 1, c) ?? '', /^budget: 101 s/);
});

test('metrics an endpoint policy cannot measure (NaN, or null read back from JSON) keep their monitors silent', () => {
  const unmeasured = JSON.parse(JSON.stringify({ ...good, kl: Number.NaN, entropy: Number.NaN })) as ProxyMetrics;   // null after JSON
  assert.equal(klBudget({ ...good, kl: Number.NaN }, sft, sft, config.gate), null);
  assert.equal(entropyCollapse(unmeasured, sft, sft, config.gate), null, 'a null entropy is not a collapse (null < x would say so)');
  assert.equal(entropyCollapse(good, sft, unmeasured, config.gate), null);
  assert.equal(entropyRise(unmeasured, sft, sft, config.gate), null, 'a null entropy is not a rise');
  assert.equal(entropyRise(good, sft, unmeasured, config.gate), null);
  assert.deepEqual(decideGate(unmeasured, sft, sft, config.gate), { keep: true, reasons: [] });
});

test('application regression: one application the labeler is sure got worse rolls the round back, whatever the overall win rate; 0 turns it off', () => {
  const withApps = (coherence: number, truth = 13 / 16) => ({ ...good, winRateVsPrevious: 0.6, validationPairs: 48,
    'winRateVsPrevious.dialogue-coherence': coherence, 'validationPairs.dialogue-coherence': 16,
    'winRateVsPrevious.truthfulness': truth, 'validationPairs.truthfulness': 16 }) as ProxyMetrics;
  assert.deepEqual(applicationWinRates(withApps(0.25)).map((a) => [a.application, a.rate, a.pairs]), [['dialogue-coherence', 0.25, 16], ['truthfulness', 13 / 16, 16]]);
  const finding = applicationRegression(withApps(3 / 16), sft, sft, config.gate);
  assert.match(finding?.reason ?? '', /^the labeler prefers the last kept policy on dialogue-coherence \(candidate's win rate 0\.188 of 16 validation prompts, below ½ at 0\.99 confidence\)$/);
  assert.equal(applicationRegression(withApps(4 / 16), sft, sft, config.gate), null, '4 of 16 is not sure enough at 0.99');
  assert.ok(applicationRegression(withApps(4 / 16), sft, sft, { ...config.gate, applicationRegressionConfidence: 0.9 }), 'at 0.9 it is');
  assert.equal(applicationRegression(withApps(0), sft, sft, { ...config.gate, applicationRegressionConfidence: 0 }), null, 'off');
  assert.equal(applicationRegression(good, sft, sft, config.gate), null, 'no per-application figures, silent');
  const decision = decideGate(withApps(2 / 16), sft, sft, { ...config.gate, winRateConfidence: 0 });
  assert.deepEqual([decision.keep, decision.reasons.map((r) => r.split(':')[0])], [false, ['application-regression']]);
});
