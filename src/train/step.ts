// One optimisation step on one batch: forward, backward, loss check, gradient clipping, AdamW.
// The trainer, the benchmarks and the tests all take their steps through this file: `optimizationStep`
// runs it eagerly; `TrainStep` runs the same kernels, but on a backend that can capture (wasm) it
// records the forward and backward once and from then on replays them with no JavaScript per op.

import type { HostArray, KernelProgram, Storage } from '../backend/backend.ts';
import type { GPT } from '../models/gpt.ts';
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

/** Forward and backward of one batch; gradients land in the model's flat gradient buffer. Returns the loss tensor. */
function forwardBackward(model: GPT, x: Tensor, y: Tensor): Tensor {
  const loss = model.forward(x, y).loss!;
  model.store!.zeroGrad();
  backward(loss);
  return loss;
}

/**
 * What a step reads back, gathered on the backend into one two-element buffer so that a step reads
 * once: [0] the loss, [1] the gradients' squared norm (when clipping).
 */
function gatherStats(model: GPT, loss: Tensor, stats: Storage, clip: boolean): void {
  const be = model.backend;
  be.cast(loss.storage, be.view(stats, 0, 1));
  if (clip) gradSquaredNorm(model.store!, be.view(stats, 1, 1));
}

/**
 * The part that changes every step (learning rate, clipping scale): always eager, after the step's one
 * read. Weights are untouched on a non-finite loss or gradient norm.
 */
function finishStep(model: GPT, opt: AdamW, stats: HostArray, o: StepOptions): StepResult {
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

/** (B, T) int32 host data in a new tensor. */
function batchTensor(model: GPT, data: Int32Array, B: number, T: number): Tensor {
  const t = empty([B, T], { backend: model.backend, dtype: 'int32' });
  model.backend.write(t.storage, data);
  return t;
}

/**
 * x, y: (B, T) int32 inputs and targets. Throws NonFiniteLossError before touching the weights when
 * the loss or the gradient norm is not finite. All activations are released before its one read.
 */
export async function optimizationStep(model: GPT, opt: AdamW, x: Int32Array, y: Int32Array, B: number, T: number, o: StepOptions): Promise<StepResult> {
  const be = model.backend;
  const stats = be.alloc('float32', 2);
  try {
    // The scope closes before the await: no arena or grad mode is open while another step may run.
    stepScope(() => gatherStats(model, forwardBackward(model, batchTensor(model, x, B, T), batchTensor(model, y, B, T)), stats, o.gradClip > 0));
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
  private inputs: { x: Tensor; y: Tensor } | null = null;
  /** The step's loss and gradient norm, written by the captured program: what each step reads. */
  private stats: Storage | null = null;
  private clip = false;
  private program: KernelProgram | null = null;
  /** Why steps run eagerly; null while capturing works (or before the first step). */
  eagerReason: string | null = null;

  constructor(
    readonly model: GPT,
    readonly opt: AdamW,
    opts: { capture?: boolean } = {},
  ) {
    const be = model.backend;
    if (opts.capture === false) this.eagerReason = 'capture turned off';
    else if (!be.beginCapture || !be.endCapture) this.eagerReason = `the ${be.name} backend cannot capture kernel launches`;
  }

  /** The captured program's launches per step (0 while eager). */
  get launches(): number {
    return this.program?.launches ?? 0;
  }

  /** How steps run, in words: for logs and bench notes. */
  describe(): string {
    return this.eagerReason === null ? `captured once, then replayed (${this.launches} kernel launches each, no per-op JavaScript)` : `eager (${this.eagerReason})`;
  }

  async run(x: Int32Array, y: Int32Array, B: number, T: number, o: StepOptions): Promise<StepResult> {
    if (this.eagerReason !== null) return optimizationStep(this.model, this.opt, x, y, B, T, o);
    const be = this.model.backend;
    const [b0, t0] = this.inputs?.x.shape ?? [];
    if (b0 !== B || t0 !== T || this.clip !== o.gradClip > 0) {
      this.release();
      this.inputs = outsideArenas(() => ({ x: batchTensor(this.model, x, B, T), y: batchTensor(this.model, y, B, T) }));
      this.stats = be.alloc('float32', 2);
      this.clip = o.gradClip > 0;
    } else {
      be.write(this.inputs!.x.storage, x);
      be.write(this.inputs!.y.storage, y);
    }
    const stats = this.stats!;
    if (this.program) {
      this.program.run();
    } else {
      const { x: xt, y: yt } = this.inputs!;
      be.beginCapture!();
      try {
        outsideArenas(() => stepScope(() => gatherStats(this.model, forwardBackward(this.model, xt, yt), stats, this.clip)));
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
    if (this.stats) this.model.backend.free(this.stats);
    this.stats = null;
    this.inputs?.x.buf.release();
    this.inputs?.y.buf.release();
    this.inputs = null;
  }
}
