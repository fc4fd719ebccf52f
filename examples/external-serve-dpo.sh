#!/usr/bin/env sh
# An external trainer for a policy behind an endpoint (`policy: {kind: endpoint}`, see run-endpoint-policy.yaml),
# runnable here: DPO (arXiv 2305.18290) with `rlaif train dpo` (external-dpo.sh) from the folder the current endpoint
# serves (RLAIF_BASE_MODEL), then `rlaif serve` on the trained folder in the background, on port
# RLAIF_SERVE_PORT_BASE + round (default 8100 + round), and RLAIF_OUTPUT/endpoint.json naming that server and its
# folder. The servers outlive the run, one per round (their pids in external/round-<n>/output/serve.pid): stop them
# afterwards. With vLLM or SGLang, load the trained weights (or a LoRA adapter) into your serving stack instead.
# RLAIF_CLI overrides the command (default: npx rlaif).
set -eu
: "${RLAIF_BASE_MODEL:?set policy.checkpoint to the Hugging Face folder the first server serves}"
output="$RLAIF_OUTPUT"
RLAIF_OUTPUT="$output/model" sh "$(dirname "$0")/external-dpo.sh"
port=$(( ${RLAIF_SERVE_PORT_BASE:-8100} + RLAIF_ROUND ))
nohup ${RLAIF_CLI:-npx rlaif} serve --model "$output/model" --port "$port" --served-model-name "round-$RLAIF_ROUND" > "$output/serve.log" 2>&1 &
echo $! > "$output/serve.pid"
tries=0
until node -e "fetch('http://127.0.0.1:$port/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 300 ]; then echo "rlaif serve on port $port did not come up; see $output/serve.log" >&2; exit 1; fi
  sleep 1
done
printf '{"baseURL": "http://127.0.0.1:%s/v1", "model": "round-%s", "checkpoint": "model"}\n' "$port" "$RLAIF_ROUND" > "$output/endpoint.json"
