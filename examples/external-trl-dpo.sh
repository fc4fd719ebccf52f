#!/usr/bin/env sh
# An external trainer for `rlaif run` (update: {kind: external, format: trl}) with Hugging Face TRL's DPOTrainer, for
# a machine with Python, torch, transformers, datasets and trl (not installed here): the round's conversational
# preference pairs, the current policy as the model to train, the result saved to RLAIF_OUTPUT for the gate.
set -eu
python3 - <<'PY'
import os
from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import DPOConfig, DPOTrainer

base, output = os.environ["RLAIF_BASE_MODEL"], os.environ["RLAIF_OUTPUT"]
model = AutoModelForCausalLM.from_pretrained(base)
tokenizer = AutoTokenizer.from_pretrained(base)
data = load_dataset("json", data_files=os.environ["RLAIF_PREFERENCES"], split="train")
args = DPOConfig(output_dir=output + ".trl", beta=0.1, num_train_epochs=1, per_device_train_batch_size=8,
                 learning_rate=5e-6, seed=int(os.environ["RLAIF_SEED"]), report_to=[])
trainer = DPOTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
trainer.train()
trainer.save_model(output)
tokenizer.save_pretrained(output)
PY
