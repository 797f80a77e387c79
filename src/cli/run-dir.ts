// Reading and writing run directories (runs/<timestamp>/): the checkpoint files plus metrics.jsonl.

import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tokenizer } from '../data/tokenizer.ts';
import { GPT } from '../models/gpt.ts';
import { CHECKPOINT_FILES, decodeWeights, encodeCheckpoint, parseRunConfig, parseState, parseTokenizer, type RunConfigFile } from '../train/checkpoint.ts';
import type { Trainer, TrainerState } from '../train/trainer.ts';
import { UserError } from './errors.ts';
import { writeFileAtomic } from './fs-atomic.ts';

export function timestampDir(base = 'runs'): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return join(base, `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`);
}

function readRunFile(dir: string, name: string): Buffer {
  const path = join(dir, name);
  if (!existsSync(path)) {
    throw new UserError(existsSync(dir) ? `${dir} has no ${name}; is it a resnorm run directory (made by 'resnorm train')?` : `run directory ${dir} does not exist`);
  }
  return readFileSync(path);
}

export interface LoadedRun {
  dir: string;
  config: RunConfigFile;
  tokenizer: Tokenizer;
  state: TrainerState;
}

export function readRun(dir: string): LoadedRun {
  const config = parseRunConfig(readRunFile(dir, 'config.json').toString('utf8'), dir);
  const tokenizer = parseTokenizer(readRunFile(dir, 'tokenizer.json').toString('utf8'), dir);
  const state = parseState(readRunFile(dir, 'state.json').toString('utf8'), dir);
  if (tokenizer.vocabSize !== config.model.vocabSize) {
    throw new UserError(`${dir}: tokenizer.json has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${config.model.vocabSize}; the files come from different runs`);
  }
  return { dir, config, tokenizer, state };
}

/** The run's model with its saved weights. */
export function loadModel(run: LoadedRun): GPT {
  const model = GPT.create(run.config.model);
  const { state } = decodeWeights(new Uint8Array(readRunFile(run.dir, 'model.safetensors')), join(run.dir, 'model.safetensors'));
  model.store!.loadStateDict(state, join(run.dir, 'model.safetensors'));
  return model;
}

export function readCheckpointBytes(dir: string): { model: Uint8Array; optimizer: Uint8Array; state: string } {
  return {
    model: new Uint8Array(readRunFile(dir, 'model.safetensors')),
    optimizer: new Uint8Array(readRunFile(dir, 'optimizer.safetensors')),
    state: readRunFile(dir, 'state.json').toString('utf8'),
  };
}

/** Writes every checkpoint file atomically; state.json goes last so it only names a complete save. */
export async function saveCheckpoint(dir: string, trainer: Trainer, tokenizer: Tokenizer): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const files = await encodeCheckpoint(trainer, tokenizer);
  for (const name of CHECKPOINT_FILES) writeFileAtomic(join(dir, name), files[name]);
}

export function appendMetrics(dir: string, record: Record<string, unknown>): void {
  appendFileSync(join(dir, 'metrics.jsonl'), JSON.stringify(record) + '\n');
}

/** On resume, drops metric lines past the checkpoint's step (they were logged after the last save). */
export function truncateMetrics(dir: string, step: number): void {
  const path = join(dir, 'metrics.jsonl');
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => {
      try {
        return (JSON.parse(l) as { step: number }).step <= step;
      } catch {
        return false;
      }
    });
  writeFileAtomic(path, kept.map((l) => l + '\n').join(''));
}
