// The logit lens (nostalgebraist 2020): the residual stream leaving each block, read through the
// model's final norm (ln_f, when it has one) and its output head as if the stack ended there, and the
// cross-entropy of that early prediction. Observed through the blocks' taps (src/nn/taps.ts) in one
// no-grad pass per batch; the values of every block are gathered into one tensor and read once.

import type { Batch } from '../../data/corpus.ts';
import type { GPT } from '../../models/gpt.ts';
import type { Module } from '../../nn/module.ts';
import { withTaps, type TapSink } from '../../nn/taps.ts';
import { noGrad } from '../../tensor/autograd.ts';
import { readAfterScope } from '../../tensor/arena.ts';
import { concat, reshape } from '../../tensor/ops/layout.ts';
import { linear } from '../../tensor/ops/matmul.ts';
import { sum } from '../../tensor/ops/reduce.ts';
import { crossEntropy } from '../../tensor/ops/softmax.ts';
import { tensor, type Tensor } from '../../tensor/tensor.ts';

/** The loss of the prediction read off a stream (B, T, C) — or hyper-connections' (B, T, n, C), summed over n first. */
export function lensLoss(model: GPT, stream: Tensor, targets: Tensor): Tensor {
  const x = stream.rank === 4 ? sum(stream, [2]) : stream; // (B, T, C)
  const h = model.ln_f ? model.ln_f.forward(x) : x;
  return crossEntropy(linear(h, model.headWeight.value, null), targets); // scalar
}

class LensSink implements TapSink {
  readonly losses: Tensor[] = [];
  private depth = 0;
  constructor(
    private readonly model: GPT,
    private readonly targets: Tensor,
  ) {}
  norm(): void {}
  residual(): void {}
  attention(): void {}
  block(_: Module, __: Tensor, output: Tensor): void {
    // ln_f's own tap calls back into this sink (norm: ignored); blocks do not nest, so no guard is needed beyond depth.
    if (this.depth > 0) return;
    this.depth++;
    try {
      this.losses.push(reshape(lensLoss(this.model, output, this.targets), [1]));
    } finally {
      this.depth--;
    }
  }
}

export interface LensResult {
  /** Per block i: the mean loss of the prediction read off the stream leaving block i. */
  perBlock: number[];
  /** The model's own loss on the same batches. */
  model: number;
}

export async function logitLens(model: GPT, batches: readonly Batch[], B: number, T: number): Promise<LensResult> {
  const be = model.backend;
  const L = model.config.nLayer;
  const sums = new Float64Array(L + 1);
  await model.inEvalMode(async () => {
    for (const { x, y } of batches) {
      const opts = { backend: be, dtype: 'int32' } as const;
      const v = await readAfterScope(() =>
        noGrad(() => {
          const targets = tensor(y, [B, T], opts);
          const sink = new LensSink(model, targets);
          const out = withTaps(sink, () => model.forward(tensor(x, [B, T], opts), targets));
          return concat([...sink.losses, reshape(out.loss!, [1])], 0);
        }),
      );
      if (v.length !== L + 1) throw new Error(`logit lens: expected ${L} block taps, saw ${v.length - 1}; is every block a resnorm Block?`);
      for (let i = 0; i <= L; i++) sums[i] += v[i];
    }
  });
  const n = batches.length;
  return { perBlock: Array.from(sums.subarray(0, L), (s) => s / n), model: sums[L] / n };
}
