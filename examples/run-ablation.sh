#!/bin/sh
# What each feedback source adds: runs `rlaif run` with each source alone, then mixed (examples/run-ablation-*.yaml),
# on the embedded testbed, and tabulates the gold figures of each final policy from its summary.json.
# Usage: sh examples/run-ablation.sh [seed]     (each run resumes if its folder exists)
set -e
seed=${1:-0}
for variant in pairwise pointwise self-supervised mixed; do
  npx rlaif run --config "examples/run-ablation-$variant.yaml" --seed "$seed" --out "runs/ablation-$variant-seed$seed" --no-progress > /dev/null
done
node -e '
const fs = require("fs"), seed = process.argv[1];
const names = ["gold_win_rate_vs_sft", "proxy_win_rate_vs_sft", "hallucination_rate_final", "harmful_compliance_rate_final", "over_refusal_rate_final", "coherence_error_rate_final", "length_drift", "rounds_kept"];
console.log(["variant", ...names].join("\t"));
for (const v of ["pairwise", "pointwise", "self-supervised", "mixed"]) {
  const s = JSON.parse(fs.readFileSync(`runs/ablation-${v}-seed${seed}/summary.json`, "utf8"));
  console.log([v, ...names.map((n) => s[n] === undefined ? "-" : Number(s[n]).toFixed(3))].join("\t"));
}' "$seed"
