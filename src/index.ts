// The package's public API (`import { … } from 'rlaif'`): the engine and the testbed as namespaces, then the pieces a
// user composes — checkpoints and tokenizers, the AI labeler (judges, providers), trainers and losses, dataset formats, run folders,
// the judging run. Leaves out internals whose shape may change (kernels, CLI commands, test doubles). The CLI is `rlaif`.
export * as engine from './engine/index.ts';
export * as testbed from './testbed/index.ts';

// models: Hugging Face checkpoints, tokenizers, generation
export { Transformer } from './models/transformer.ts';
export { configFromHf, configToHf, type TransformerConfig } from './models/config.ts';
export { loadPretrained, savePretrained, type PretrainedModel } from './models/checkpoint.ts';
export { CharTokenizer, HfTokenizer, type ChatMessage, type TextTokenizer } from './models/tokenizer.ts';
export { generate, type GenerateOptions, type GeneratedSequence } from './models/generate.ts';

// feedback: the AI labeler
export type { ChatModelV1, ChatGenerateOptions, ChatGenerateResult } from './feedback/chat-model-v1.ts';
export { OpenAICompatibleProvider, type OpenAICompatibleOptions } from './feedback/providers/openai-compatible-provider.ts';
export { InProcessProvider } from './feedback/providers/in-process-provider.ts';
export { PairwiseJudge, pairwiseJudgeOptions, type PairwiseJudgeOptions } from './feedback/pairwise-judge.ts';
export { PointwiseJudge, pointwiseJudgeOptions, type PointwiseJudgeOptions } from './feedback/pointwise-judge.ts';
export type { JudgmentFailure, PairwiseInput, PairwiseJudgment, PairwiseResult, PointwiseJudgment, PointwiseResult } from './feedback/judgment-types.ts';

// algorithms: advantages, losses, trainers, the training loop and run folders
export { computeAdvantages, type AdvantageEstimatorName } from './algorithms/advantages.ts';
export { bradleyTerryLoss, dpoLoss, grpoLoss, ipoLoss, ppoPolicyLoss } from './algorithms/losses.ts';
export { PolicyGradientTrainer, type PolicyGradientConfig } from './algorithms/policy-gradient-trainer.ts';
export { DpoTrainer, type DpoConfig } from './algorithms/dpo-trainer.ts';
export { SftTrainer, type SftExample } from './algorithms/sft-trainer.ts';
export { RewardModelTrainer, type RewardModelConfig } from './algorithms/reward-model-trainer.ts';
export { runTraining, type LoopOptions, type LoopResult, type LoopTrainer } from './algorithms/training-loop.ts';
export { RunFolder, TrainingStopped, type StepRecord } from './algorithms/training-run.ts';
export { lockRunFolder, openRunFolder, writeFileAtomic, RunFolderLockedError, RunMismatchError, type OpenedRun, type RunLock } from './algorithms/run-folder.ts';

// data: dataset formats
export type { PreferenceRecord } from './data/preference-record.ts';
export { readTrl, writeTrl } from './data/trl-format.ts';
export { readHhRlhf, writeHhRlhf } from './data/hh-rlhf-format.ts';
export { readOpenAIPreference, writeOpenAIPreference } from './data/openai-preference-format.ts';
export { readWithDuckDb, writeParquet } from './data/duckdb-format.ts';
export { readPromptDataset, readPromptRecords, type PromptRecord } from './data/prompt-record.ts';

// pipeline: the judging run
export { runJudgeJob, type JudgeRunSummary } from './pipeline/judge-run.ts';
export { loadJudgeRunConfig, parseJudgeRunConfig, type JudgeRunConfig } from './pipeline/judge-run-config.ts';
