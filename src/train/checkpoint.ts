// A run's checkpoint as named files (bytes or text): config.json, tokenizer.json, model.safetensors
// (standard safetensors, readable by other tools), optimizer.safetensors (AdamW moments) and
// state.json (step, generator states). The CLI writes them atomically; this module only encodes,
// decodes and cross-checks them, so it runs in browsers too; the readers are in checkpoint-readers.ts.

import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../io/safetensors.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import type { GPT } from '../models/gpt.ts';
import { CheckpointError, decodeWeights, parseState, type RunConfigFile } from './checkpoint-readers.ts';
import type { TrainerConfig } from './config.ts';
import type { TaskModel } from './task.ts';
import type { Trainer } from './trainer.ts';

export { CheckpointError, decodeWeights, parseRunConfig, parseState, parseTokenizer, type RunConfigFile } from './checkpoint-readers.ts';

export const CHECKPOINT_FILES = ['config.json', 'tokenizer.json', 'model.safetensors', 'optimizer.safetensors', 'state.json'] as const;
export type CheckpointFile = (typeof CHECKPOINT_FILES)[number];

/** A trained model as its checkpoint sees it: parameters in a store, and the config it was built from. */
type SavedModel = Pick<GPT, 'store'> & { readonly config: object };

/** Encodes the model's weights (standard safetensors, F32, names as in the model). */
export async function encodeWeights(model: SavedModel, step: number): Promise<Uint8Array> {
  const state = await model.store!.stateDict();
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, t] of state) tensors[name] = { dtype: 'F32', shape: t.shape, data: t.data };
  return encodeSafetensors(tensors, { format: 'resnorm', step: String(step), config: JSON.stringify(model.config) });
}

export async function encodeCheckpoint(trainer: Trainer, tokenizer: Tokenizer): Promise<Record<CheckpointFile, Uint8Array | string>> {
  const config: RunConfigFile = { format: 'resnorm-run', version: 1, train: trainer.config, model: trainer.model.config };
  return {
    'config.json': JSON.stringify(config, null, 2) + '\n',
    'tokenizer.json': JSON.stringify(tokenizer.toJSON()) + '\n',
    ...(await encodeTrainingState(trainer)),
  };
}

/** The files every task's checkpoint holds besides its config and vocabulary: weights, AdamW moments, loop state. */
export async function encodeTrainingState(trainer: AnyTrainer & { model: SavedModel }): Promise<Record<'model.safetensors' | 'optimizer.safetensors' | 'state.json', Uint8Array | string>> {
  const { model, opt } = trainer;
  const b = model.backend;
  const step = trainer.step;
  const [m, v] = await Promise.all([b.read(opt.m), b.read(opt.v)]);
  return {
    'model.safetensors': await encodeWeights(model, step),
    'optimizer.safetensors': encodeSafetensors({ m: { dtype: 'F32', shape: [m.length], data: m }, v: { dtype: 'F32', shape: [v.length], data: v } }, { step: String(step) }),
    'state.json': JSON.stringify({ ...trainer.getState() }, null, 2) + '\n',
  };
}

/** A trainer of any task. */
export type AnyTrainer = Trainer<TaskModel, TrainerConfig>;

/** Restores weights, optimizer moments and loop state, after checking that all files agree. */
export function restoreTrainer(trainer: AnyTrainer, files: { model: Uint8Array; optimizer: Uint8Array; state: string }, dir: string): void {
  const { state: weights, step: weightStep } = decodeWeights(files.model, `${dir}/model.safetensors`);
  const st = parseState(files.state, dir);
  let opt;
  try {
    opt = decodeSafetensors(files.optimizer, { source: `${dir}/optimizer.safetensors` });
  } catch (e) {
    throw new CheckpointError((e as Error).message);
  }
  const optStep = Number(opt.metadata.step);
  if (weightStep !== st.step || optStep !== st.step) {
    throw new CheckpointError(`${dir}: the checkpoint files disagree (model step ${weightStep}, optimizer step ${optStep}, state step ${st.step}) — the checkpoint is damaged; resume from another one (resnorm info lists them)`);
  }
  const store = trainer.model.store!;
  for (const name of ['m', 'v']) {
    const t = opt.tensors.get(name);
    if (!t || t.data.length !== store.size) {
      throw new CheckpointError(`${dir}/optimizer.safetensors: '${name}' has ${t?.data.length ?? 0} elements but the model has ${store.size} parameters; it belongs to another model`);
    }
  }
  try {
    store.loadStateDict(weights, `${dir}/model.safetensors`);
  } catch (e) {
    throw new CheckpointError((e as Error).message);
  }
  const b = store.backend;
  b.write(trainer.opt.m, opt.tensors.get('m')!.data);
  b.write(trainer.opt.v, opt.tensors.get('v')!.data);
  trainer.setState(st);
}
