// A testbed config small enough for tests of `rlaif run` in testbed mode (rlaifRun's `testbed` option): builds in a
// few seconds, with an anchor set larger than the tiny runs' anchorPairs so the labeled-anchor source has pairs left.
// Test-only; the default testbed is testbed-config.ts's.
export const TINY_TESTBED = {
  world: { creatures: 8, unknownNames: 6, petNames: 6 }, corpus: { paragraphsPerCreature: 2, paragraphsPerAct: 1 },
  judging: { pairs: 20, singles: 6, critiques: 6 }, anchor: { size: 16, noise: 0.25 },
  policy: { vocabSize: 400, width: 32, layers: 1, heads: 2, pretrainSteps: 4, finetuneSteps: 4, batchSize: 4, judgingBatchSize: 2 },
};
