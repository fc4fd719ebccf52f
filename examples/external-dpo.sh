#!/usr/bin/env sh
# An external trainer for `rlaif run` (update: {kind: external}), runnable here: offline DPO (arXiv 2305.18290) with
# `rlaif train dpo` on the round's preferences (TRL standard JSONL: prompt / chosen / rejected strings), from the
# current policy (RLAIF_BASE_MODEL), written as a Hugging Face folder to RLAIF_OUTPUT. RLAIF_CLI overrides the command
# (default: npx rlaif). See run-external-dpo.yaml.
set -eu
config="$RLAIF_OUTPUT.train-dpo.yaml"
cat > "$config" <<YAML
runDir: $RLAIF_OUTPUT.train
model: {kind: checkpoint, path: $RLAIF_BASE_MODEL}
saveTo: $RLAIF_OUTPUT
data: $RLAIF_PREFERENCES
heldOut: $RLAIF_PREFERENCES
evalEvery: 0
steps: ${RLAIF_DPO_STEPS:-20}
batchSize: 16
beta: 0.1
learningRate: 0.001
seed: $RLAIF_SEED
YAML
${RLAIF_CLI:-npx rlaif} train dpo --config "$config" --no-progress
