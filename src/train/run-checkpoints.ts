// A trainer's checkpoints in a run store: save one (encoded by checkpoint.ts, committed as a whole by
// run-store.ts), and load one back — for sampling (weights only) or to resume training exactly.

import type { Tokenizer } from '../data/tokenizer.ts';
import { GPT } from '../models/gpt.ts';
import type { Backend } from '../backend/backend.ts';
import type { CheckpointChoice, CheckpointEntry, KeepPolicy, RunStore } from '../io/run-store.ts';
import { CheckpointError, decodeWeights, encodeCheckpoint, type AnyTrainer, parseRunConfig, parseState, parseTokenizer, restoreTrainer, type RunConfigFile } from './checkpoint.ts';
import type { Trainer, TrainerState } from './trainer.ts';

/** What sampling and evaluation read; resuming reads the optimizer moments too. */
const WEIGHT_FILES = ['config.json', 'tokenizer.json', 'state.json', 'model.safetensors'] as const;
const TRAINING_FILES = [...WEIGHT_FILES, 'optimizer.safetensors'] as const;

export interface LoadedCheckpoint {
  entry: CheckpointEntry;
  /** Where its files are, for messages: 'runs/x/checkpoints/step-00000400'. */
  source: string;
  config: RunConfigFile;
  tokenizer: Tokenizer;
  state: TrainerState;
  files: Map<string, Uint8Array>;
}

/** Saves the trainer's current step; `valLoss` is the validation loss measured at this step, if any. */
export async function saveCheckpoint(store: RunStore, trainer: Trainer, tokenizer: Tokenizer, o: { valLoss: number | null; keep: KeepPolicy }): Promise<CheckpointEntry> {
  return store.commit(await encodeCheckpoint(trainer, tokenizer), { step: trainer.step, valLoss: o.valLoss }, o.keep);
}

export async function loadCheckpoint(store: RunStore, which: CheckpointChoice, o: { forTraining: boolean }): Promise<LoadedCheckpoint> {
  const { entry, files } = await store.load(which, o.forTraining ? TRAINING_FILES : WEIGHT_FILES);
  const source = entry.dir === '.' ? store.dir : `${store.dir}/${entry.dir}`;
  const text = (name: string) => new TextDecoder().decode(files.get(name)!);
  const config = parseRunConfig(text('config.json'), source);
  const tokenizer = parseTokenizer(text('tokenizer.json'), source);
  const state = parseState(text('state.json'), source);
  if (tokenizer.vocabSize !== config.model.vocabSize) {
    throw new CheckpointError(`${source}: tokenizer.json has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${config.model.vocabSize}; the files come from different runs`);
  }
  if (state.step !== entry.step) {
    throw new CheckpointError(`${source}/state.json is at step ${state.step} but the checkpoint is listed at step ${entry.step}; the checkpoint is damaged — choose another with --step`);
  }
  return { entry, source, config, tokenizer, state, files };
}

/** The checkpoint's model, with its weights. */
export function modelOf(ckpt: LoadedCheckpoint, backend?: Backend): GPT {
  // No random initialisation: loadStateDict sets every parameter and buffer, or refuses the file.
  return withCheckpointWeights(GPT.create(ckpt.config.model, { ...(backend ? { backend } : {}), initialise: false }), ckpt);
}

/** What a checkpoint of any task holds for its weights and state: its files, and where they are. */
export interface CheckpointFiles {
  source: string;
  files: Map<string, Uint8Array>;
}

/** Loads the checkpoint's model.safetensors into a model built from its config; returns the model. */
export function withCheckpointWeights<M extends Pick<GPT, 'store'>>(model: M, ckpt: CheckpointFiles): M {
  const path = `${ckpt.source}/model.safetensors`;
  const { state } = decodeWeights(ckpt.files.get('model.safetensors')!, path);
  try {
    model.store!.loadStateDict(state, path);
  } catch (e) {
    throw new CheckpointError((e as Error).message);
  }
  return model;
}

/** Puts a trainer (of any task, built from the checkpoint's config) exactly where the checkpoint left off. */
export function resumeTrainer(trainer: AnyTrainer, ckpt: CheckpointFiles): void {
  const f = (name: string) => ckpt.files.get(name)!;
  restoreTrainer(trainer, { model: f('model.safetensors'), optimizer: f('optimizer.safetensors'), state: new TextDecoder().decode(f('state.json')) }, ckpt.source);
}
