// resnorm's library entry point (`import … from 'resnorm'`): what a program needs to build a model from a
// config, train it with callbacks, checkpoint it, load a run, generate, and read the diagnostics, in Node
// or a browser. Nothing here imports a Node module; `resnorm` in Node adds file-system helpers
// (src/node.ts). docs/api.md documents each export, with examples.

// Backends: the plain TypeScript reference (the oracle) and WebAssembly SIMD, behind one contract.
export type { Backend } from './backend/backend.ts';
export { createRefBackend } from './backend/ref/ref-backend.ts';
export { createWasmBackend, WasmBackend, type WasmBackendOptions } from './backend/wasm/index.ts';
export { createWebGpuBackend, WebGpuBackend, type WebGpuBackendOptions } from './backend/webgpu/index.ts';
export { getDefaultBackend, setDefaultBackend } from './tensor/backend-registry.ts';

// Tensors and autograd, for programs that go below the models.
export * as tensor from './tensor/index.ts';

// Models and their designs (norm, placement, residual rule: docs/designs.md).
export { GPT, checkGPTConfig, ConfigError, DEFAULT_GPT_CONFIG, type GPTConfig, type GPTOutput } from './models/gpt.ts';
export { NORM_KINDS, type NormKind } from './nn/norm.ts';
export { PLACEMENTS, RESIDUALS, type Placement, type Residual } from './nn/design.ts';
export { generate, sampleFromLogits, SampleError, type SampleOptions } from './models/generate.ts';

// Data: tokenizers and the train/validation split.
export { CharTokenizer } from './data/char-tokenizer.ts';
export { BpeTokenizer, trainBpe } from './data/bpe-tokenizer.ts';
export { tokenizerFromJSON, promptFor, TokenizerError, type Tokenizer, type TokenizerJSON } from './data/tokenizer.ts';
export { splitTrainVal, sampleBatch, type Batch } from './data/corpus.ts';

// Training: the config (validated, with the CLI's defaults), the loop and its hooks.
export { parseTrainConfig, modelConfigOf, type TrainConfig } from './train/config.ts';
export { Trainer, NonFiniteLossError, type EvalMetrics, type StepMetrics, type TrainerHooks, type TrainerOptions, type TrainerState } from './train/trainer.ts';
export type * from './train/diagnostics/records.ts';

// Runs and checkpoints: the run directory of docs/run-directory.md over any file system (RunFs).
export { RunStore, RunStoreError, type CheckpointChoice, type CheckpointEntry, type KeepPolicy, type RunKind } from './io/run-store.ts';
export type { RunFs } from './io/run-fs.ts';
export { loadCheckpoint, modelOf, resumeTrainer, saveCheckpoint, type LoadedCheckpoint } from './train/run-checkpoints.ts';
export { CheckpointError, encodeCheckpoint } from './train/checkpoint.ts';
export { decodeSafetensors, encodeSafetensors } from './io/safetensors.ts';

// Hugging Face GPT-2 directories in and out, on bytes (docs/gpt2.md; the CLI's import-gpt2 and export-gpt2).
export { importGpt2, GPT2_INPUT_FILES, type Gpt2InputFiles, type ImportedGpt2 } from './io/gpt2/gpt2-import.ts';
export { exportGpt2, checkGpt2Export, gpt2ExportProblems, GPT2_OUTPUT_FILES } from './io/gpt2/gpt2-export.ts';
export { Gpt2FormatError } from './io/gpt2/gpt2-error.ts';

// Metrics, each matched to an established implementation (docs/metrics.md).
export * as metrics from './metrics/index.ts';
