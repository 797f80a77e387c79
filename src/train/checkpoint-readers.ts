// The readers of a checkpoint's files: config.json, tokenizer.json, model.safetensors and state.json.
// Each one either returns a checked value or throws a CheckpointError naming the file and what is wrong,
// whatever bytes it is given (test/io/fuzz-readers.test.ts feeds them mutated files).

import { decodeSafetensors, SafetensorsError } from '../io/safetensors.ts';
import { tokenizerFromJSON, type Tokenizer } from '../data/tokenizer.ts';
import type { GPTConfig } from '../models/gpt.ts';
import type { HostTensor } from '../nn/parameter-store.ts';
import { parseTrainConfig, type TrainConfig } from './config.ts';
import type { TrainerState } from './trainer.ts';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export interface RunConfigFile {
  format: 'resnorm-run';
  version: 1;
  train: TrainConfig;
  model: GPTConfig;
}

export function parseJSON(text: string, file: string, dir: string): unknown {
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

