// A run's checkpoint as named files (bytes or text): config.json, tokenizer.json, model.safetensors
// (standard safetensors, readable by other tools), optimizer.safetensors (AdamW moments) and
// state.json (step, generator states). The CLI writes them atomically; this module only encodes,
// decodes and cross-checks them, so it runs in browsers too.

import { decodeSafetensors, encodeSafetensors, SafetensorsError, type SafetensorsTensor } from '../io/safetensors.ts';
import { tokenizerFromJSON, type Tokenizer } from '../data/tokenizer.ts';
import type { GPT, GPTConfig } from '../models/gpt.ts';
import type { HostTensor } from '../nn/parameter-store.ts';
import { parseTrainConfig, type TrainConfig } from './config.ts';
import type { Trainer, TrainerState } from './trainer.ts';

export const CHECKPOINT_FILES = ['config.json', 'tokenizer.json', 'model.safetensors', 'optimizer.safetensors', 'state.json'] as const;
export type CheckpointFile = (typeof CHECKPOINT_FILES)[number];

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export interface RunConfigFile {
  format: 'resnorm-run';
  version: 1;
  train: TrainConfig;
  model: GPTConfig;
}

/** Encodes the model's weights (standard safetensors, F32, names as in the model). */
export async function encodeWeights(model: GPT, step: number): Promise<Uint8Array> {
  const state = await model.store!.stateDict();
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, t] of state) tensors[name] = { dtype: 'F32', shape: t.shape, data: t.data };
  return encodeSafetensors(tensors, { format: 'resnorm', step: String(step), config: JSON.stringify(model.config) });
}

export async function encodeCheckpoint(trainer: Trainer, tokenizer: Tokenizer): Promise<Record<CheckpointFile, Uint8Array | string>> {
  const { model, opt } = trainer;
  const b = model.backend;
  const step = trainer.step;
  const [m, v] = await Promise.all([b.read(opt.m), b.read(opt.v)]);
  const config: RunConfigFile = { format: 'resnorm-run', version: 1, train: trainer.config, model: model.config };
  return {
    'config.json': JSON.stringify(config, null, 2) + '\n',
    'tokenizer.json': JSON.stringify(tokenizer.toJSON()) + '\n',
    'model.safetensors': await encodeWeights(model, step),
    'optimizer.safetensors': encodeSafetensors({ m: { dtype: 'F32', shape: [m.length], data: m }, v: { dtype: 'F32', shape: [v.length], data: v } }, { step: String(step) }),
    'state.json': JSON.stringify({ ...trainer.getState() }, null, 2) + '\n',
  };
}

function parseJSON(text: string, file: string, dir: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${dir}/${file} is not valid JSON (${(e as Error).message}); the file is corrupt — restore it or start a new run`);
  }
}

export function parseRunConfig(text: string, dir: string): RunConfigFile {
  const raw = parseJSON(text, 'config.json', dir) as Partial<RunConfigFile>;
  if (raw?.format !== 'resnorm-run' || raw.version !== 1 || !raw.model) {
    throw new CheckpointError(`${dir}/config.json is not a resnorm run config (expected format 'resnorm-run', version 1)`);
  }
  return { format: 'resnorm-run', version: 1, train: parseTrainConfig(raw.train, `${dir}/config.json`), model: raw.model };
}

export function parseTokenizer(text: string, dir: string): Tokenizer {
  try {
    return tokenizerFromJSON(parseJSON(text, 'tokenizer.json', dir));
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${dir}/tokenizer.json: ${(e as Error).message}`);
  }
}

/** Decodes weights and checks them against the model they are for. */
export function decodeWeights(bytes: Uint8Array, source: string): { state: Map<string, HostTensor>; step: number } {
  let decoded;
  try {
    decoded = decodeSafetensors(bytes, { source });
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(e.message);
    throw e;
  }
  const state = new Map<string, HostTensor>();
  for (const [name, t] of decoded.tensors) {
    if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') throw new CheckpointError(`${source}: tensor '${name}' has dtype ${t.dtype}; expected floating point weights`);
    state.set(name, { shape: t.shape, data: t.data as Float32Array });
  }
  return { state, step: Number(decoded.metadata.step ?? 'NaN') };
}

export function parseState(text: string, dir: string): TrainerState {
  const s = parseJSON(text, 'state.json', dir) as Partial<TrainerState>;
  const rngOk = (r: unknown) => Array.isArray(r) && r.length === 4 && r.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32);
  if (!s || !Number.isInteger(s.step) || !rngOk(s.dataRng) || !rngOk(s.dropoutRng)) {
    throw new CheckpointError(`${dir}/state.json is incomplete or corrupt (needs step, dataRng, dropoutRng); restore it or start a new run`);
  }
  return { step: s.step!, dataRng: s.dataRng!, dropoutRng: s.dropoutRng!, bestValLoss: s.bestValLoss ?? null, lastValLoss: s.lastValLoss ?? null };
}

/** Restores weights, optimizer moments and loop state, after checking that all files agree. */
export function restoreTrainer(trainer: Trainer, files: { model: Uint8Array; optimizer: Uint8Array; state: string }, dir: string): void {
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
    throw new CheckpointError(`${dir}: the checkpoint files disagree (model step ${weightStep}, optimizer step ${optStep}, state step ${st.step}) — a save was interrupted; restore the directory from a backup`);
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
