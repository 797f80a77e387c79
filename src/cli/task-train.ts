// `resnorm train --task translate|classify|image`: the same loop, checkpoints, resume, logs, dashboard
// and TensorBoard as the language model (train-loop.ts), on a task's data and model (task-data.ts).

import { repairJsonl } from '../io/jsonl-log.ts';
import { RUN_LOGS, type RunStore } from '../io/run-store.ts';
import type { AnyTrainer } from '../train/checkpoint.ts';
import type { TaskModel } from '../train/task.ts';
import { runKindOf, type OtherTask } from '../train/tasks/kinds.ts';
import { resumeTrainer } from '../train/run-checkpoints.ts';
import { createTaskModel, encodeTaskCheckpoint, parseTaskConfig, savedTrainFields, loadTaskCheckpoint, taskRun, type LoadedTaskCheckpoint, type TaskRun } from '../train/tasks/task-run.ts';
import { SymbolVocab, TranslateTask } from '../train/translate-task.ts';
import { Trainer } from '../train/trainer.ts';
import { configOverrides } from './config-flags.ts';
import { UserError } from './errors.ts';
import { nodeRunFs } from './node-run-fs.ts';
import { timestampDir } from './run-dir.ts';
import type { RunLock } from './run-lock.ts';
import { createRun, openForResume, refuseUnusableOut } from './run-open.ts';
import { describeMetrics, describeTaskModel } from './task-describe.ts';
import { buildTask, loadTaskData, newVocab } from './task-data.ts';
import { readConfigFile, RESUMABLE_OVERRIDES, type TrainOptions } from './train-options.ts';
import { dashboardPort, runTrainLoop } from './train-loop.ts';


/** Translations of the first few validation pairs, shown at each evaluation. */
const SHOWN_PAIRS = 5;

export async function trainTaskCommand(task: OtherTask, opts: TrainOptions): Promise<void> {
  if (opts.dashboard) dashboardPort(opts.dashboardPort);
  if (opts.budgetMinutes !== undefined) throw new UserError(`--budget-minutes fits the language model's iterations; for --task ${task} set --max-iters (its default trains in about ten minutes on two cores)`);
  const overrides = configOverrides(opts, task);
  let resumed: { store: RunStore; lock: RunLock; ckpt: LoadedTaskCheckpoint } | null = null;
  let train: TaskRun['train'];
  if (opts.resume) {
    const bad = Object.keys(overrides).filter((k) => !RESUMABLE_OVERRIDES.has(k));
    if (bad.length > 0 || opts.config) {
      throw new UserError(`--resume continues a run exactly, so only ${[...RESUMABLE_OVERRIDES].join(', ')} may change; drop ${opts.config ? '--config' : bad.map((k) => `--${k}`).join(', ')}`);
    }
    resumed = await openForResume(opts.resume, (store) => loadTaskCheckpoint(store, task, 'latest', { forTraining: true }));
    train = parseTaskConfig(task, { ...savedTrainFields(resumed.ckpt.run), ...overrides }, 'resumed config');
  } else {
    const fileConfig = opts.config ? readConfigFile(opts.config) : {};
    train = parseTaskConfig(task, { ...fileConfig, ...overrides }, opts.config ?? 'flags');
    if (opts.out !== undefined) await refuseUnusableOut(opts.out);
  }
  try {
    await trainTask(task, train, opts, resumed);
  } finally {
    resumed?.lock.release();
  }
}

async function trainTask(task: OtherTask, initial: TaskRun['train'], opts: TrainOptions, resumed: { store: RunStore; lock: RunLock; ckpt: LoadedTaskCheckpoint } | null): Promise<void> {
  const config = { ...initial, lrDecayIters: initial.lrDecayIters ?? initial.maxIters };
  const data = loadTaskData({ task, train: config }, { vocab: resumed?.ckpt.run.vocab });
  console.log(`data: ${data.loaded.source}`);
  const vocab = resumed?.ckpt.run.vocab ?? newVocab(config, data);
  const run = taskRun(config as never, vocab as never) as TaskRun;
  const model = createTaskModel(run, { seed: config.seed });
  const built = buildTask(run, model, data);
  for (const line of built.summary) console.log(line);
  // The attention maps' labels: the translator's decoder inputs are target symbols (the start token first).
  const decodeToken = run.task === 'translate' ? (id: number) => (id === SymbolVocab.BOS ? '<s>' : run.vocab.target.codec.decode([id]).join('')) : undefined;
  const trainer: AnyTrainer = new Trainer<TaskModel, TaskRun['train']>(built.task, run.train, { decodeToken });
  let lastSaved: number | null = null;
  if (resumed) {
    resumeTrainer(trainer, resumed.ckpt);
    lastSaved = trainer.step;
    for (const log of RUN_LOGS) {
      const repair = await repairJsonl(nodeRunFs, resumed.store.logPath(log), (r) => typeof r.step === 'number' && r.step <= trainer.step);
      if (repair && repair.tornBytes > 0) console.log(`${log} ended in a torn line (${repair.tornBytes} bytes, cut off when the last run was interrupted); removed it`);
      if (repair && repair.droppedRecords > 0) console.log(`${log}: dropped ${repair.droppedRecords} record(s) logged after step ${trainer.step}, where this run resumes`);
    }
    console.log(`resuming ${resumed.store.dir} at step ${trainer.step}`);
  }
  const dir = resumed?.store.dir ?? opts.out ?? timestampDir();
  if (trainer.step >= config.maxIters) throw new UserError(`${dir} is already at step ${trainer.step} = maxIters; pass --max-iters N with N > ${trainer.step} to train further`);
  console.log(`model: ${describeTaskModel(run)}, ${(model.numParameters() / 1e6).toFixed(2)}M parameters; backend ${model.backend.name}`);
  const { store, lock } = resumed ?? (await createRun(dir, runKindOf(task)));
  try {
    const translator = built.task instanceof TranslateTask ? built.task : null;
    // A few validation pairs spread over the split (it is in dictionary order for CMUdict).
    const val = run.task === 'translate' && data.task === 'translate' ? data.loaded.data.val : [];
    const shown = Array.from({ length: Math.min(SHOWN_PAIRS, val.length) }, (_, i) => val[Math.floor((i * val.length) / Math.min(SHOWN_PAIRS, val.length))]);
    const join = run.task === 'translate' && run.vocab.units === 'symbols' ? ' ' : '';
    const { result } = await runTrainLoop(
      {
        trainer,
        config,
        store,
        lock,
        lastSaved,
        encode: () => encodeTaskCheckpoint(trainer, run),
        throughput: { perStep: config.batchSize, field: 'examplesPerSec', unit: 'ex' },
        describeMetrics,
        sample: translator && shown.length > 0
          ? async () => {
              const out = await translator.translate(shown.map((p) => p.source), shown.length);
              return { prompt: 'validation pairs', text: shown.map((p, i) => `${p.source.join('')} → ${out[i].join(join)}   (reference: ${p.target.join(join)})`).join('\n') };
            }
          : undefined,
      },
      opts,
    );
    if (result === 'stopped') return;
    console.log(`run directory: ${dir}`);
    console.log(`evaluate it on the held-out test split with: resnorm eval ${dir} --split test`);
    if (run.task === 'translate') console.log(`translate with it: resnorm translate ${dir} ${run.vocab.units === 'symbols' ? 'resnorm' : '"some text"'}`);
    else console.log(`predict with it: resnorm predict ${dir} ${run.task === 'image' ? '--images FILE.idx3-ubyte' : '"some text"'}`);
  } finally {
    if (!resumed) lock.release();
  }
}
