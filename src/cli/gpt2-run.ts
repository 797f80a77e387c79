// GPT-2 directories to and from resnorm runs, on bytes and objects only (no file access: the commands
// in gpt2-commands.ts read and write the files, and a page could call these too). An import becomes
// a checkpoint at step 0 exactly as `resnorm train` writes one, through the trainer's own encoder; an
// export reads a checkpoint's config, tokenizer and weights and writes GPT-2's files.

import type { Backend } from '../backend/backend.ts';
import { createRefBackend } from '../backend/ref/ref-backend.ts';
import { importGpt2, type Gpt2ImportOptions, type Gpt2InputFiles, type ImportedGpt2 } from '../io/gpt2/gpt2-import.ts';
import { checkGpt2Export, exportGpt2, type Gpt2ExportDType, type Gpt2OutputFile } from '../io/gpt2/gpt2-export.ts';
import { GPT } from '../models/gpt.ts';
import { encodeCheckpoint, decodeWeights, type CheckpointFile } from '../train/checkpoint.ts';
import { MAX_CHECKPOINT_PARAMETERS } from '../train/checkpoint-readers.ts';
import { parseTrainConfig, type TrainConfig } from '../train/config.ts';
import type { LoadedCheckpoint } from '../train/run-checkpoints.ts';
import { Trainer } from '../train/trainer.ts';

export interface Gpt2Run {
  /** What was read, less the weights (they are in the checkpoint, and let go once loaded). */
  imported: Omit<ImportedGpt2, 'state'>;
  /** The run's config: the model's fields, a BPE tokenizer, and the training defaults for the rest. */
  train: TrainConfig;
  /** The checkpoint's files, as `resnorm train` writes them at step 0. */
  files: Record<CheckpointFile, Uint8Array | string>;
  /** The model's parameter count. */
  parameters: number;
}

/**
 * A GPT-2 directory's files as the checkpoint of a new run. The model is built on `backend` (default:
 * a reference backend of its own, host memory only, since nothing is computed), its weights loaded by
 * name and shape, and the checkpoint encoded by the trainer's encoder, with zero AdamW moments and the
 * generators' initial states: a run that `resnorm train --resume` fine-tunes from step 0.
 */
export async function gpt2ToRun(files: Gpt2InputFiles, dir: string, opts: Gpt2ImportOptions & { backend?: Backend } = {}): Promise<Gpt2Run> {
  const { state, ...imported } = importGpt2(files, dir, { ...opts, maxParameters: MAX_CHECKPOINT_PARAMETERS });
  const { vocabSize, ...fields } = imported.model;
  const bpeVocabSize = vocabSize >= 257 && vocabSize <= 65536 ? { bpeVocabSize: vocabSize } : {};
  const train = parseTrainConfig({ ...fields, tokenizer: 'bpe', ...bpeVocabSize }, `the run config made from ${dir}/config.json`);
  const backend = opts.backend ?? createRefBackend();
  const model = GPT.create(imported.model, { backend, initialise: false }); // loadStateDict sets every value, or refuses
  let trainer: Trainer | null = null;
  try {
    model.store!.loadStateDict(state, `${dir}/model.safetensors`);
    state.clear(); // the model holds its own copy: at GPT-2 small, half a gigabyte less to hold while encoding
    // The trainer needs token ids to exist; a run made here has none until it is resumed on a text.
    const none = new Int32Array(imported.model.blockSize + 1);
    trainer = new Trainer(model, train, { train: none, val: none }, { capture: false });
    const checkpoint = await encodeCheckpoint(trainer, imported.tokenizer);
    return { imported, train, files: checkpoint, parameters: model.numParameters() };
  } finally {
    if (trainer) for (const s of [trainer.opt.m, trainer.opt.v]) backend.free(s);
    model.store!.release();
  }
}

/** A checkpoint (read with its weights) as a GPT-2 directory's files. */
export function runToGpt2(ckpt: LoadedCheckpoint, dtype: Gpt2ExportDType = 'F32'): Record<Gpt2OutputFile, Uint8Array | string> {
  // Refused before the weights are decoded: a design GPT-2 cannot hold needs no weights to say so.
  checkGpt2Export({ model: ckpt.config.model, tokenizer: ckpt.tokenizer }, ckpt.source);
  const { state } = decodeWeights(ckpt.files.get('model.safetensors')!, `${ckpt.source}/model.safetensors`);
  return exportGpt2({ model: ckpt.config.model, tokenizer: ckpt.tokenizer, state }, ckpt.source, dtype);
}
