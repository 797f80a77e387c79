// Run directories in the engine, with no file system: a run the user picked is read through a read-only
// MemoryRunFs (the run store and checkpoint loader the CLI uses, unchanged), and a model trained here is
// written by the same store into a fresh MemoryRunFs whose files the page offers as one .tar.

import type { Backend } from '../backend/backend.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import { appendJsonl } from '../io/jsonl-log.ts';
import { findRunDirs, MemoryRunFs } from '../io/memory-run-fs.ts';
import { joinPath, utf8 } from '../io/run-fs.ts';
import { RunStore } from '../io/run-store.ts';
import type { GPT } from '../models/gpt.ts';
import { describeDesign } from '../nn/design.ts';
import { loadCheckpoint, modelOf, saveCheckpoint } from '../train/run-checkpoints.ts';
import type { Trainer } from '../train/trainer.ts';
import type { RunFile, RunInfo } from './protocol.ts';

/** What a run trained in the engine logs as it goes, to be written with it: metrics.jsonl and samples.jsonl records. */
export interface RunLogs {
  metrics: Record<string, unknown>[];
  samples: Record<string, unknown>[];
}

/** The file beside the checkpoints that holds the text the model was trained on (config.json's `data`). */
export const DATA_FILE = 'data.txt';

/** A run name like the CLI's runs/<timestamp>: 'resnorm-demo-20261124-060349'. */
export function runName(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `resnorm-demo-${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}

function info(dir: string, step: number, model: GPT, tokenizer: Tokenizer, valLoss: number | null): RunInfo {
  const c = model.config;
  return {
    dir,
    step,
    tokenizer: tokenizer.kind,
    vocabSize: tokenizer.vocabSize,
    parameters: model.numParameters(),
    model: { nLayer: c.nLayer, nHead: c.nHead, nEmbd: c.nEmbd, blockSize: c.blockSize },
    design: describeDesign(c),
    valLoss,
  };
}

/** The latest checkpoint of the one run among `files`, as a model on `backend`. */
export async function loadRun(files: readonly RunFile[], backend: Backend): Promise<{ model: GPT; tokenizer: Tokenizer; run: RunInfo }> {
  const fs = new MemoryRunFs(
    files.map((f) => [f.path, f.data] as const),
    { readOnly: true },
  );
  const dirs = findRunDirs(files.map((f) => f.path));
  if (dirs.length === 0) {
    throw new Error(`None of the ${files.length} files picked belongs to a resnorm run: pick a run directory itself (the folder with run.json and checkpoints/, made by resnorm train or saved here)`);
  }
  if (dirs.length > 1) {
    const shown = dirs.slice(0, 4).join(', ') + (dirs.length > 4 ? ', …' : '');
    throw new Error(`The folder picked holds ${dirs.length} runs (${shown}); pick one run directory`);
  }
  const store = await RunStore.open(fs, dirs[0]);
  if (store.kind !== 'gpt') throw new Error(`${dirs[0]} is a ${store.kind} run; this page generates text from language-model runs (resnorm train --task lm)`);
  const ckpt = await loadCheckpoint(store, 'latest', { forTraining: false });
  const model = modelOf(ckpt, backend);
  return { model, tokenizer: ckpt.tokenizer, run: info(dirs[0], ckpt.entry.step, model, ckpt.tokenizer, ckpt.state.lastValLoss) };
}

/**
 * The trainer's current step as the files of a run directory `name`/: run.json, checkpoints/ (one
 * checkpoint, committed as resnorm train commits), the logs, and the training text (data.txt, which the
 * trainer's config names as `name/data.txt`, so the CLI finds it from the folder the run is unpacked in).
 */
export async function saveRun(name: string, trainer: Trainer, tokenizer: Tokenizer, o: { text: string; logs: RunLogs; valLoss: number | null }): Promise<{ run: RunInfo; files: RunFile[] }> {
  const fs = new MemoryRunFs();
  const store = await RunStore.create(fs, name, 'gpt');
  await fs.writeFile(joinPath(name, DATA_FILE), utf8(o.text));
  for (const r of o.logs.metrics) await appendJsonl(fs, store.logPath('metrics.jsonl'), r);
  for (const r of o.logs.samples) await appendJsonl(fs, store.logPath('samples.jsonl'), r);
  await saveCheckpoint(store, trainer, tokenizer, { valLoss: o.valLoss, keep: { last: 1, best: false } });
  return { run: info(name, trainer.step, trainer.model, tokenizer, trainer.lastValLoss), files: fs.entries().map(([path, data]) => ({ path, data })) };
}
