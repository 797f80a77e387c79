// The readers of a checkpoint's files: config.json, tokenizer.json, model.safetensors and state.json.
// Each one either returns a checked value or throws a CheckpointError naming the file and what is wrong,
// whatever bytes it is given (test/io/fuzz-readers.test.ts feeds them mutated files).

import { decodeSafetensors, SafetensorsError } from '../io/safetensors.ts';
import { MAX_VOCAB } from '../data/bpe-merge.ts';
import { tokenizerFromJSON, TokenizerError, type Tokenizer } from '../data/tokenizer.ts';
import { ConfigError, type GPTConfig } from '../models/gpt.ts';
import type { Activation } from '../nn/activation.ts';
import type { HostTensor } from '../nn/parameter-store.ts';
import type { RngState } from '../tensor/rng.ts';
import { modelConfigOf, parseTrainConfig, type TrainConfig } from './config.ts';
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

/**
 * The largest model a checkpoint may describe: weights, gradients and both AdamW moments (16 bytes a
 * parameter) then take half of wasm32's 4 GiB, and GPT-2 small (124M) still fits. Checked before
 * GPT.create, so a corrupt size cannot make it allocate gigabytes.
 */
export const MAX_CHECKPOINT_PARAMETERS = 2 ** 27;
/** Ten times GPT-3's 96 layers; building a model costs ~0.5 ms a layer even when each is tiny. */
export const MAX_CHECKPOINT_LAYERS = 1024;
/** resnorm's files nest 3 levels; a deep nest is corruption, and would overflow the stack in error messages. */
const MAX_JSON_DEPTH = 32;

const CORRUPT = 'the file is corrupt — choose an earlier checkpoint with --step (resnorm info lists them), or start a new run';

/**
 * The activation names runs were written with before 'gelu' | 'gelu-tanh' (gelu()'s `approximate`
 * argument): read as the new names, in both halves of config.json, and never written.
 */
const LEGACY_ACTIVATIONS: Readonly<Record<string, Activation>> = { none: 'gelu', tanh: 'gelu-tanh' };

function withCurrentNames(half: unknown): unknown {
  if (!isRecord(half) || typeof half.activation !== 'string' || !Object.hasOwn(LEGACY_ACTIVATIONS, half.activation)) return half;
  return { ...half, activation: LEGACY_ACTIVATIONS[half.activation] };
}

export function parseJSON(text: string, file: string, dir: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${dir}/${file} is not valid JSON (${(e as Error).message}); ${CORRUPT}`);
  }
  if (depthOf(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new CheckpointError(`${dir}/${file} nests arrays or objects more than ${MAX_JSON_DEPTH} levels deep, which resnorm never writes; ${CORRUPT}`);
  }
  return value;
}

export function parseRunConfig(text: string, dir: string): RunConfigFile {
  const file = `${dir}/config.json`;
  const raw = parseJSON(text, 'config.json', dir);
  if (!isRecord(raw) || raw.format !== 'resnorm-run' || raw.version !== 1) {
    throw new CheckpointError(`${file} is not a resnorm run config (expected format 'resnorm-run', version 1)`);
  }
  let train: TrainConfig;
  try {
    train = parseTrainConfig(withCurrentNames(raw.train), `${file} (field 'train')`);
  } catch (e) {
    if (e instanceof ConfigError) throw new CheckpointError(`${e.message}\n${CORRUPT}`);
    throw e;
  }
  return { format: 'resnorm-run', version: 1, train, model: checkModelConfig(withCurrentNames(raw.model), train, file) };
}

/**
 * The model half of config.json must be exactly what the train half builds (the writer derives it with
 * modelConfigOf), so only vocabSize, which comes from the tokenizer, needs a check of its own.
 */
function checkModelConfig(raw: unknown, train: TrainConfig, file: string): GPTConfig {
  if (!isRecord(raw)) throw new CheckpointError(`${file}: field 'model' must be an object of model settings, found ${kindOf(raw)}; ${CORRUPT}`);
  const { vocabSize } = raw;
  if (typeof vocabSize !== 'number' || !Number.isSafeInteger(vocabSize) || vocabSize <= 0 || vocabSize > MAX_VOCAB) {
    throw new CheckpointError(`${file}: model.vocabSize = ${shortJSON(vocabSize)}; it must be an integer in [1, ${MAX_VOCAB}]; ${CORRUPT}`);
  }
  const model = modelConfigOf(train, vocabSize);
  const unknown = Object.keys(raw).filter((k) => !Object.hasOwn(model, k));
  if (unknown.length > 0) throw new CheckpointError(`${file}: unknown field model.${unknown[0]}; known fields: ${Object.keys(model).join(', ')}; ${CORRUPT}`);
  for (const [k, v] of Object.entries(model)) {
    if (raw[k] !== v) {
      throw new CheckpointError(`${file}: model.${k} = ${shortJSON(raw[k])} but train.${k} = ${JSON.stringify(v)}; the two halves of the file disagree, so ${CORRUPT}`);
    }
  }
  if (model.nLayer > MAX_CHECKPOINT_LAYERS) {
    throw new CheckpointError(`${file}: nLayer = ${model.nLayer}, more than the ${MAX_CHECKPOINT_LAYERS} layers a checkpoint may have; ${CORRUPT}`);
  }
  const floats = floatsOf(model);
  if (floats > MAX_CHECKPOINT_PARAMETERS) {
    throw new CheckpointError(
      `${file}: the model it describes (V=${model.vocabSize}, T=${model.blockSize}, L=${model.nLayer}, C=${model.nEmbd}) needs at least ${floats.toExponential(2)} parameters, above the ${MAX_CHECKPOINT_PARAMETERS} a checkpoint may hold; ${CORRUPT}`,
    );
  }
  return model;
}

/**
 * A lower bound on what GPT.create allocates, in floats: embeddings, the output head when untied,
 * the sinusoidal table, and 12·C² per block (attention 4·C², MLP 8·C²), leaving out biases and norms.
 */
function floatsOf(m: GPTConfig): number {
  return m.vocabSize * m.nEmbd * (m.tieWeights ? 1 : 2) + m.blockSize * m.nEmbd + 12 * m.nLayer * m.nEmbd * m.nEmbd;
}

export function parseTokenizer(text: string, dir: string): Tokenizer {
  const json = parseJSON(text, 'tokenizer.json', dir);
  try {
    return tokenizerFromJSON(json);
  } catch (e) {
    if (e instanceof TokenizerError) throw new CheckpointError(`${dir}/tokenizer.json: ${e.message}; ${CORRUPT}`);
    throw e;
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
  // Files from other tools carry no step; NaN then matches no state.json, which restoring checks.
  const step = decoded.metadata.step;
  return { state, step: step !== undefined && /^(0|[1-9][0-9]{0,15})$/.test(step) ? Number(step) : NaN };
}

export function parseState(text: string, dir: string): TrainerState {
  const file = `${dir}/state.json`;
  const s = parseJSON(text, 'state.json', dir);
  if (!isRecord(s)) throw new CheckpointError(`${file} must be an object {step, dataRng, dropoutRng, bestValLoss, lastValLoss}, found ${kindOf(s)}; ${CORRUPT}`);
  const { step } = s;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) {
    throw new CheckpointError(`${file}: step = ${shortJSON(step)}; it must be a non-negative integer; ${CORRUPT}`);
  }
  return { step, dataRng: rngState(s, 'dataRng', file), dropoutRng: rngState(s, 'dropoutRng', file), bestValLoss: loss(s, 'bestValLoss', file), lastValLoss: loss(s, 'lastValLoss', file) };
}

/** xoshiro128**'s state: four uint32 words, not all zero (from which it would only ever return 0). */
function rngState(s: Record<string, unknown>, field: string, file: string): RngState {
  const r = s[field];
  const isWord = (w: unknown) => typeof w === 'number' && Number.isInteger(w) && w >= 0 && w < 2 ** 32;
  if (!Array.isArray(r) || r.length !== 4 || !r.every(isWord) || r.every((w) => w === 0)) {
    throw new CheckpointError(`${file}: ${field} = ${shortJSON(r)}; a generator state is four uint32 words, not all zero; ${CORRUPT}`);
  }
  return [r[0], r[1], r[2], r[3]];
}

/** A validation loss: a finite number, or null (absent too) before the first evaluation. */
function loss(s: Record<string, unknown>, field: string, file: string): number | null {
  const v = s[field] ?? null;
  if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) {
    throw new CheckpointError(`${file}: ${field} = ${shortJSON(v)}; it must be a finite number or null; ${CORRUPT}`);
  }
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/** A value for a message: parsed JSON of bounded depth (see parseJSON), cut to a readable length. */
function shortJSON(v: unknown): string {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** The nesting depth of a parsed JSON value, counting no further than `limit` + 1. */
function depthOf(v: unknown, limit: number): number {
  if (typeof v !== 'object' || v === null) return 0;
  if (limit < 0) return 1;
  let deepest = 0;
  for (const x of Object.values(v)) deepest = Math.max(deepest, depthOf(x, limit - 1));
  return 1 + deepest;
}
