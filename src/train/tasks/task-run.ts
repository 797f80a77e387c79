// A run of a task other than the language model: its config (config.json version 2: task, train,
// model), its vocabulary (vocab.json), the model they build, and its checkpoints in a run store —
// saved with the same weights, moments and state files as the language model's, and loaded back
// for evaluation, prediction or an exact resume. Runs in browsers too (no Node imports).

import type { Backend } from '../../backend/backend.ts';
import type { CheckpointChoice, CheckpointEntry, KeepPolicy, RunStore } from '../../io/run-store.ts';
import { ResidualMLP, type ResidualMLPConfig } from '../../models/residual-mlp.ts';
import { ResNet, type ResNetConfig } from '../../models/resnet.ts';
import { Seq2Seq, type Seq2SeqConfig } from '../../models/seq2seq.ts';
import { TextClassifier, type TextClassifierConfig } from '../../models/text-classifier.ts';
import { ConfigError } from '../../models/gpt-config.ts';
import { CheckpointError, parseJSON, parseState } from '../checkpoint-readers.ts';
import { withCheckpointWeights } from '../run-checkpoints.ts';
import { encodeTrainingState, type AnyTrainer } from '../checkpoint.ts';
import type { TaskModel } from '../task.ts';
import type { TrainerState } from '../trainer.ts';
import { classifierConfigOf, parseClassifyConfig, type ClassifyConfig } from './classify-config.ts';
import { imageFieldsInUse, mlpConfigOf, parseImageConfig, resnetConfigOf, type ImageConfig } from './image-config.ts';
import type { OtherTask } from './kinds.ts';
import { vocabFromJSON, vocabToJSON, type ClassifyVocab, type ImageVocab, type TranslateVocab } from './task-vocab.ts';
import { parseTranslateConfig, seq2seqConfigOf, type TranslateConfig } from './translate-config.ts';

/** A task run's settings: what `train` validated, the vocabulary its data gave, and the model they make. */
export type TaskRun =
  | { task: 'translate'; train: TranslateConfig; vocab: TranslateVocab; model: Seq2SeqConfig }
  | { task: 'classify'; train: ClassifyConfig; vocab: ClassifyVocab; model: TextClassifierConfig }
  | { task: 'image'; train: ImageConfig; vocab: ImageVocab; model: ResidualMLPConfig | ResNetConfig };

export type TaskModelOf<R extends TaskRun> = R['task'] extends 'translate' ? Seq2Seq : R['task'] extends 'classify' ? TextClassifier : ResidualMLP | ResNet;

/** The run a validated config and a vocabulary make (the model's config derived from both). */
export function taskRun(train: TranslateConfig, vocab: TranslateVocab): Extract<TaskRun, { task: 'translate' }>;
export function taskRun(train: ClassifyConfig, vocab: ClassifyVocab): Extract<TaskRun, { task: 'classify' }>;
export function taskRun(train: ImageConfig, vocab: ImageVocab): Extract<TaskRun, { task: 'image' }>;
export function taskRun(train: TranslateConfig | ClassifyConfig | ImageConfig, vocab: TranslateVocab | ClassifyVocab | ImageVocab): TaskRun {
  switch (vocab.task) {
    case 'translate': {
      const t = train as TranslateConfig;
      return { task: 'translate', train: t, vocab, model: seq2seqConfigOf(t, vocab.source.codec.size, vocab.target.codec.size) };
    }
    case 'classify': {
      const t = train as ClassifyConfig;
      return { task: 'classify', train: t, vocab, model: classifierConfigOf(t, vocab.tokenizer.vocabSize, vocab.labels.length) };
    }
    case 'image': {
      const t = train as ImageConfig;
      const model = t.model === 'mlp' ? mlpConfigOf(t, vocab.rows * vocab.cols, vocab.classNames.length) : resnetConfigOf(t, vocab.rows, vocab.cols, vocab.classNames.length);
      return { task: 'image', train: t, vocab, model };
    }
  }
}

/** Builds the run's model, its parameters initialised from `seed`. */
export function createTaskModel(run: TaskRun, o: { seed: number; backend?: Backend }): TaskModel {
  const opts = { seed: o.seed, ...(o.backend ? { backend: o.backend } : {}) };
  switch (run.task) {
    case 'translate':
      return Seq2Seq.create(run.model, opts);
    case 'classify':
      return TextClassifier.create(run.model, opts);
    case 'image':
      return run.train.model === 'mlp' ? ResidualMLP.create(run.model as ResidualMLPConfig, opts) : ResNet.create(run.model as ResNetConfig, opts);
  }
}

export const TASK_CHECKPOINT_FILES = ['config.json', 'vocab.json', 'model.safetensors', 'optimizer.safetensors', 'state.json'] as const;
const WEIGHT_FILES = ['config.json', 'vocab.json', 'state.json', 'model.safetensors'] as const;

interface TaskConfigFile {
  format: 'resnorm-run';
  version: 2;
  task: OtherTask;
  train: unknown;
  model: unknown;
}

/** The train half of config.json: the run's config, less the fields of an image model it does not use. */
export function savedTrainFields(run: TaskRun): Record<string, unknown> {
  return { ...(run.task === 'image' ? imageFieldsInUse(run.train) : run.train) };
}

export async function encodeTaskCheckpoint(trainer: AnyTrainer, run: TaskRun): Promise<Record<(typeof TASK_CHECKPOINT_FILES)[number], Uint8Array | string>> {
  const config: TaskConfigFile = { format: 'resnorm-run', version: 2, task: run.task, train: savedTrainFields(run), model: run.model };
  return {
    'config.json': JSON.stringify(config, null, 2) + '\n',
    'vocab.json': JSON.stringify(vocabToJSON(run.vocab)) + '\n',
    ...(await encodeTrainingState(trainer as AnyTrainer & { model: TaskModel & { config: object } })),
  };
}

export async function saveTaskCheckpoint(store: RunStore, trainer: AnyTrainer, run: TaskRun, o: { valLoss: number | null; keep: KeepPolicy }): Promise<CheckpointEntry> {
  return store.commit(await encodeTaskCheckpoint(trainer, run), { step: trainer.step, valLoss: o.valLoss }, o.keep);
}

const CORRUPT = 'the file is corrupt — choose an earlier checkpoint with --step (resnorm info lists them), or start a new run';

/** A task's run config from raw input (a config file with flags, or a checkpoint's train half). */
export function parseTaskConfig(task: OtherTask, raw: unknown, source: string): TaskRun['train'] {
  switch (task) {
    case 'translate':
      return parseTranslateConfig(raw, source);
    case 'classify':
      return parseClassifyConfig(raw, source);
    case 'image':
      return parseImageConfig(raw, source);
  }
}

/** config.json (version 2) and vocab.json of one checkpoint, checked against each other. */
export function parseTaskRun(configText: string, vocabText: string, dir: string, expected: OtherTask): TaskRun {
  const file = `${dir}/config.json`;
  const raw = parseJSON(configText, 'config.json', dir);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || (raw as { format?: unknown }).format !== 'resnorm-run' || (raw as { version?: unknown }).version !== 2) {
    throw new CheckpointError(`${file} is not a resnorm task run config (expected format 'resnorm-run', version 2)`);
  }
  const c = raw as Partial<TaskConfigFile>;
  if (c.task !== expected) throw new CheckpointError(`${file} is a run of task ${JSON.stringify(c.task)}, but run.json says ${expected}; ${CORRUPT}`);
  let train;
  try {
    train = parseTaskConfig(expected, c.train, `${file} (field 'train')`);
  } catch (e) {
    if (e instanceof ConfigError) throw new CheckpointError(`${e.message}\n${CORRUPT}`);
    throw e;
  }
  const vocab = vocabFromJSON(parseJSON(vocabText, 'vocab.json', dir), `${dir}/vocab.json`);
  if (vocab.task !== expected) throw new CheckpointError(`${dir}/vocab.json is the vocabulary of a ${vocab.task} run, but config.json is ${expected}; ${CORRUPT}`);
  const run = taskRun(train as never, vocab as never) as TaskRun;
  // The model half is what the train half and the vocabulary build: anything else is damage.
  if (JSON.stringify(run.model) !== JSON.stringify(c.model)) {
    throw new CheckpointError(`${file}: field 'model' is not the model that 'train' and vocab.json describe (${JSON.stringify(run.model).slice(0, 120)}…); ${CORRUPT}`);
  }
  return run;
}

export interface LoadedTaskCheckpoint {
  entry: CheckpointEntry;
  source: string;
  run: TaskRun;
  state: TrainerState;
  files: Map<string, Uint8Array>;
}

export async function loadTaskCheckpoint(store: RunStore, task: OtherTask, which: CheckpointChoice, o: { forTraining: boolean }): Promise<LoadedTaskCheckpoint> {
  const names = o.forTraining ? [...WEIGHT_FILES, 'optimizer.safetensors'] : WEIGHT_FILES;
  const { entry, files } = await store.load(which, names);
  const source = entry.dir === '.' ? store.dir : `${store.dir}/${entry.dir}`;
  const text = (name: string) => new TextDecoder().decode(files.get(name)!);
  const run = parseTaskRun(text('config.json'), text('vocab.json'), source, task);
  const state = parseState(text('state.json'), source);
  if (state.step !== entry.step) {
    throw new CheckpointError(`${source}/state.json is at step ${state.step} but the checkpoint is listed at step ${entry.step}; the checkpoint is damaged — choose another with --step`);
  }
  return { entry, source, run, state, files };
}

/** The checkpoint's model with its weights. */
export function taskModelOf(ckpt: LoadedTaskCheckpoint, backend?: Backend): TaskModel {
  return withCheckpointWeights(createTaskModel(ckpt.run, { seed: ckpt.run.train.seed, backend }), ckpt);
}
