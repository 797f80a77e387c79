// Gradient norms at initialisation (Xiong et al. 2020, Fig. 3): one forward and backward of a fresh
// model on one batch, and the norm of every parameter's gradient, summed in float64 on the host from
// the model's flat gradient buffer, and grouped by layer as diagnostics.jsonl groups them. Any model
// with a parameter store and a loss (the GPT's, or a classifier's for the image jobs).

import type { Backend } from '../../backend/backend.ts';
import type { GPT } from '../../models/gpt.ts';
import type { ParameterStore } from '../../nn/parameter-store.ts';
import { layerOf } from '../../train/diagnostics/param-stats.ts';
import { backward } from '../../tensor/autograd.ts';
import { stepScope } from '../../tensor/arena.ts';
import { tensor, type Tensor } from '../../tensor/tensor.ts';

export interface GradientNorms {
  /** ‖∂L/∂θ‖ per parameter tensor, by state-dict name, in model order. */
  params: { name: string; norm: number }[];
  /** The same over each layer's parameters (`h.3`, `wte`, `ln_f`…). */
  layers: { name: string; norm: number }[];
  loss: number;
}

/** The gradients of the loss on (x, y), (B, T) row-major; the model's weights are not changed. */
export function gradientNorms(model: GPT, x: Int32Array, y: Int32Array, B: number, T: number): Promise<GradientNorms> {
  const opts = { backend: model.backend, dtype: 'int32' } as const;
  return lossGradientNorms(model, () => model.forward(tensor(x, [B, T], opts), tensor(y, [B, T], opts)).loss!);
}

/**
 * The gradients of the scalar `lossOf()` (built inside the step scope) in the model's flat gradient
 * buffer, which is zeroed afterwards; the weights are not changed. A training-mode forward does move
 * BatchNorm's running statistics: callers that must not change the model restore its buffers.
 */
export async function lossGradientNorms(model: { readonly backend: Backend; readonly store: ParameterStore | null }, lossOf: () => Tensor): Promise<GradientNorms> {
  const be = model.backend;
  const store = model.store!;
  const lossBuf = be.alloc('float32', 1);
  try {
    stepScope(() => {
      const loss = lossOf();
      store.zeroGrad();
      backward(loss);
      be.cast(loss.storage, lossBuf);
    });
    const [g, l] = await Promise.all([be.read(store.grad), be.read(lossBuf)]);
    const params = store.entries.map((e) => {
      let s = 0;
      for (let i = e.offset; i < e.offset + e.size; i++) s += g[i] * g[i];
      return { name: e.name, sq: s };
    });
    const groups = new Map<string, number>();
    for (const p of params) groups.set(layerOf(p.name), (groups.get(layerOf(p.name)) ?? 0) + p.sq);
    store.zeroGrad();
    return {
      params: params.map((p) => ({ name: p.name, norm: Math.sqrt(p.sq) })),
      layers: [...groups].map(([name, sq]) => ({ name, norm: Math.sqrt(sq) })),
      loss: l[0],
    };
  } finally {
    be.free(lossBuf);
  }
}

/** The blocks' entries of a per-layer list, in block order (`h.0`, `h.1`, …). */
export function blockValues(layers: readonly { name: string; norm: number }[]): number[] {
  return layers.filter((l) => /^h\.\d+$/.test(l.name)).sort((a, b) => Number(a.name.slice(2)) - Number(b.name.slice(2))).map((l) => l.norm);
}

/** Per block, the norm of the parameter whose name ends in `suffix` (e.g. 'mlp.c_proj.weight', Xiong's W²). */
export function blockParamValues(params: readonly { name: string; norm: number }[], suffix: string): number[] {
  const re = /^h\.(\d+)\.(.+)$/;
  return params
    .map((p) => ({ m: re.exec(p.name), norm: p.norm }))
    .filter((p) => p.m !== null && p.m[2] === suffix)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]))
    .map((p) => p.norm);
}
