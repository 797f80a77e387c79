// One optimisation step on one batch: forward, backward, loss check, gradient clipping, AdamW.
// The trainer, the benchmarks and the tests all take their steps through this file: `optimizationStep`
// runs it eagerly; `TrainStep` runs the same kernels, but on a backend that can capture (wasm) it
// records the forward and backward once and from then on replays them with no JavaScript per op.
// Any model trains here: a step is a list of host inputs (token ids, targets, pixels, masks) and a
// loss function of their tensors. The language model's (x, y) → GPT.forward(x, y).loss is the default.

import type { Backend, HostArray, KernelProgram, ProgramProfileLine, Storage } from '../backend/backend.ts';
import { GPT } from '../models/gpt.ts';
import type { ParameterStore } from '../nn/parameter-store.ts';
import type { AdamW } from '../optim/adamw.ts';
import { clipByNorm, gradSquaredNorm } from '../optim/clip.ts';
import { outsideArenas, stepScope } from '../tensor/arena.ts';
import { backward } from '../tensor/autograd.ts';
import { empty, type Tensor } from '../tensor/tensor.ts';

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  constructor(
    readonly step: number,
    readonly value: number,
  ) {
    super(`the training loss became ${value} at step ${step}; the last good checkpoint is kept. Try a lower --lr, --grad-clip 1, or --placement pre`);
  }
}

export interface StepOptions {
  /** Global-norm clipping threshold; 0 disables clipping (gradNorm is then NaN). */
  gradClip: number;
  /** Learning rate for this step (defaults to the optimizer's configured one). */
  lr?: number;
  /** Step number, for the message of a NonFiniteLossError. */
  step?: number;
  /**
   * Diagnostics of this step (train/diagnostics): called after the read, before clipping, and after
   * the update. Both only queue work on the backend, outside any captured program.
   */
  inspect?: { beforeUpdate(): void; afterUpdate(): void };
}

export interface StepResult {
  loss: number;
  gradNorm: number;
}

/** What a step needs of a model: its materialised parameters and gradients (on their backend). Any Module. */
export interface StepModel {
  readonly store: ParameterStore | null;
}

const backendOf = (model: StepModel): Backend => model.store!.backend;

/** One input of a batch, on the host: int32 ids and targets, or float32 data. */
export interface HostInput {
  data: Int32Array | Float32Array;
  shape: readonly number[];
}

/** The scalar loss of a batch from its inputs' tensors, in the order of the HostInput list. */
export type LossFn = (inputs: readonly Tensor[]) => Tensor;

/** The language model's loss: inputs [x, y], both int32 (B, T). */
export const lmLoss = (model: GPT): LossFn => (inputs) => model.forward(inputs[0], inputs[1]).loss!;

/** Forward and backward of one batch; gradients land in the model's flat gradient buffer. Returns the loss tensor. */
function forwardBackward(model: StepModel, lossOf: LossFn, inputs: readonly Tensor[]): Tensor {
  const loss = lossOf(inputs);
  model.store!.zeroGrad();
  // The step holds only the loss: every other buffer of the graph is freed as backward passes it.
  backward(loss, undefined, { freeGraph: true });
  return loss;
}

/**
 * What a step reads back, gathered on the backend into one two-element buffer so that a step reads
 * once: [0] the loss, [1] the gradients' squared norm (when clipping).
 */
function gatherStats(model: StepModel, loss: Tensor, stats: Storage, clip: boolean): void {
  const be = backendOf(model);
  be.cast(loss.storage, be.view(stats, 0, 1));
  if (clip) gradSquaredNorm(model.store!, be.view(stats, 1, 1));
}

/**
 * The part that changes every step (learning rate, clipping scale): always eager, after the step's one
 * read. Weights are untouched on a non-finite loss or gradient norm.
 */
function finishStep(model: StepModel, opt: AdamW, stats: HostArray, o: StepOptions): StepResult {
  const lossValue = stats[0];
  if (!Number.isFinite(lossValue)) throw new NonFiniteLossError(o.step ?? opt.step, lossValue);
  const gradNorm = o.gradClip > 0 ? Math.sqrt(stats[1]) : Number.NaN;
  if (o.gradClip > 0 && !Number.isFinite(gradNorm)) throw new NonFiniteLossError(o.step ?? opt.step, gradNorm);
  o.inspect?.beforeUpdate();
  if (o.gradClip > 0) clipByNorm(model.store!, o.gradClip, gradNorm);
  opt.update(o.lr);
  o.inspect?.afterUpdate();
  return { loss: lossValue, gradNorm };
}

/** Host data in a new tensor: int32 ids stay int32, float data takes the model's parameter dtype. */
export function inputTensor(model: StepModel, input: HostInput): Tensor {
  const dtype = input.data instanceof Int32Array ? 'int32' : model.store!.data.dtype === 'float64' ? 'float64' : 'float32';
  const t = empty([...input.shape], { backend: backendOf(model), dtype });
  backendOf(model).write(t.storage, input.data);
  return t;
}

/** A language-model batch as TrainStep.runBatch takes it: ids x and targets y, int32 (B, T). */
export const lmInputs = (x: Int32Array, y: Int32Array, B: number, T: number): HostInput[] => [
  { data: x, shape: [B, T] },
  { data: y, shape: [B, T] },
];

/**
 * x, y: (B, T) int32 inputs and targets of the language model. Throws NonFiniteLossError before
 * touching the weights when the loss or the gradient norm is not finite. All activations are released
 * before its one read.
 */
export function optimizationStep(model: GPT, opt: AdamW, x: Int32Array, y: Int32Array, B: number, T: number, o: StepOptions): Promise<StepResult> {
  return optimizationStepOn(model, opt, lmLoss(model), lmInputs(x, y, B, T), o);
}

/** optimizationStep for any model: `lossOf` of the batch's inputs. */
export async function optimizationStepOn(model: StepModel, opt: AdamW, lossOf: LossFn, batch: readonly HostInput[], o: StepOptions): Promise<StepResult> {
  const be = backendOf(model);
  const stats = be.alloc('float32', 2);
  try {
    // The scope closes before the await: no arena or grad mode is open while another step may run.
    stepScope(() => gatherStats(model, forwardBackward(model, lossOf, batch.map((b) => inputTensor(model, b))), stats, o.gradClip > 0));
    const read = await be.read(stats);
    return finishStep(model, opt, read, o);
  } finally {
    be.free(stats);
  }
}

/**
 * Training steps of one model, captured where the backend allows. The first step of a batch shape
 * runs eagerly while the backend records its forward and backward; later steps write the batch into
 * the same input buffers and replay the record. Results are bit-identical to optimizationStep: the
 * same kernels run on the same data in the same order, only the JavaScript that chose them is skipped.
 * Where the backend cannot capture, or the capture saw something a replay cannot repeat (dropout's
 * fresh masks), every step is eager and `eagerReason` says why.
 */
export class TrainStep {
  private inputs: Tensor[] | null = null;
  /** The step's loss and gradient norm, written by the captured program: what each step reads. */
  private stats: Storage | null = null;
  private clip = false;
  private program: KernelProgram | null = null;
  /** Why steps run eagerly; null while capturing works (or before the first step). */
  eagerReason: string | null = null;

  private readonly lossOf: LossFn;

  /** `loss` defaults to the language model's for a GPT; other models pass theirs. */
  constructor(
    readonly model: StepModel,
    readonly opt: AdamW,
    opts: { capture?: boolean; loss?: LossFn } = {},
  ) {
    if (opts.loss) this.lossOf = opts.loss;
    else if (model instanceof GPT) this.lossOf = lmLoss(model);
    else throw new Error('TrainStep: a model other than the GPT needs its loss function (opts.loss)');
    const be = backendOf(model);
    if (opts.capture === false) this.eagerReason = 'capture turned off';
    else if (!be.beginCapture || !be.endCapture) this.eagerReason = `the ${be.name} backend cannot capture kernel launches`;
  }

  /** The captured program's launches per step (0 while eager). */
  get launches(): number {
    return this.program?.launches ?? 0;
  }

  /**
   * Profiling: one replay of the captured forward and backward with each launch timed, by the label
   * it was captured under (see labelledBackend); null while steps are eager or before the first.
   * It overwrites the gradients and the step's stats with those of the current weights on the last
   * batch; the next step computes both afresh, so a run that profiles trains as one that does not.
   */
  profile(): ProgramProfileLine[] | null {
    return this.program?.profile?.() ?? null;
  }

  /** How steps run, in words: for logs and bench notes. */
  describe(): string {
    return this.eagerReason === null ? `captured once, then replayed (${this.launches} kernel launches each, no per-op JavaScript)` : `eager (${this.eagerReason})`;
  }

  /** A language-model step: x, y int32 (B, T). */
  run(x: Int32Array, y: Int32Array, B: number, T: number, o: StepOptions): Promise<StepResult> {
    return this.runBatch(lmInputs(x, y, B, T), o);
  }

  /** One step on `batch`, whose inputs the loss function reads in this order. */
  async runBatch(batch: readonly HostInput[], o: StepOptions): Promise<StepResult> {
    if (this.eagerReason !== null) return optimizationStepOn(this.model, this.opt, this.lossOf, batch, o);
    const be = backendOf(this.model);
    if (!this.inputs || !sameLayout(this.inputs, batch) || this.clip !== o.gradClip > 0) {
      this.release();
      this.inputs = outsideArenas(() => batch.map((b) => inputTensor(this.model, b)));
      this.stats = be.alloc('float32', 2);
      this.clip = o.gradClip > 0;
    } else {
      batch.forEach((b, i) => be.write(this.inputs![i].storage, b.data));
    }
    const stats = this.stats!;
    if (this.program) {
      this.program.run();
    } else {
      const inputs = this.inputs!;
      be.beginCapture!();
      try {
        outsideArenas(() => stepScope(() => gatherStats(this.model, forwardBackward(this.model, this.lossOf, inputs), stats, this.clip)));
      } catch (e) {
        be.endCapture!().program?.dispose(); // a partial record: never replayed
        this.release();
        throw e;
      }
      const captured = be.endCapture!();
      if (captured.program) this.program = captured.program;
      else this.eagerReason = captured.reason;
    }
    const read = await be.read(stats);
    if (this.eagerReason !== null) this.release(); // this step's results stand; the next ones are eager
    return finishStep(this.model, this.opt, read, o);
  }

  /** Frees the captured program and the buffers it reads and writes. */
  release(): void {
    this.program?.dispose();
    this.program = null;
    if (this.stats) backendOf(this.model).free(this.stats);
    this.stats = null;
    for (const t of this.inputs ?? []) t.buf.release();
    this.inputs = null;
  }
}

/** Whether the captured inputs fit this batch: the same number of inputs, each of the same shape and kind. */
function sameLayout(inputs: readonly Tensor[], batch: readonly HostInput[]): boolean {
  return inputs.length === batch.length && inputs.every((t, i) => {
    const b = batch[i];
    return (t.dtype === 'int32') === b.data instanceof Int32Array && t.shape.length === b.shape.length && t.shape.every((d, j) => d === b.shape[j]);
  });
}
