// The articles' SimpleNet done right: an MLP classifier (784 → 256 → 10 by default) whose hidden
// layers are residual blocks of matching width, x ← x + F(x) with F = Linear → ReLU → Linear, each
// wrapped in the same sub-layer designs as the Transformers (docs/designs.md): a norm kind (LayerNorm,
// BatchNorm, none, …), its placement and the residual rule. `residual: 'none'` with depth d is the
// plain deep MLP the residual one is compared with. The hidden state is kept as (B, 1, H), a sequence of
// one position, so every norm kind and residual rule (hyper-connections included) applies unchanged.

import { z } from 'zod';
import type { Backend } from '../backend/backend.ts';
import { DEFAULT_HYPER_STREAMS, DEFAULT_MIX_RATIO, designProblem, needsFinalNorm, PLACEMENTS, RESIDUALS, sublayerDesign, type DesignFields } from '../nn/design.ts';
import { Dropout } from '../nn/dropout.ts';
import { Linear } from '../nn/linear.ts';
import { Module, ModuleList } from '../nn/module.ts';
import { makeNorm, NORM_KINDS, type Norm } from '../nn/norm.ts';
import { ResidualLayer, type Sublayer } from '../nn/sublayer.ts';
import { taps } from '../nn/taps.ts';
import { relu } from '../tensor/ops/elementwise.ts';
import { expand, reshape } from '../tensor/ops/layout.ts';
import { sum } from '../tensor/ops/reduce.ts';
import { getDefaultBackend } from '../tensor/backend-registry.ts';
import { Rng } from '../tensor/rng.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { configError } from './gpt-config.ts';

const posInt = z.number().int().positive();

/** The fields, without the checks across them (the image task's run config picks from here). */
export const ResidualMLPConfigFields = z.object({
  inputs: posInt.default(784),
  hidden: posInt.default(256),
  classes: posInt.min(2).default(10),
  /** Residual blocks of width `hidden` (the articles' SimpleNet has one). */
  depth: posInt.max(256).default(1),
  dropout: z.number().min(0).lt(1).default(0),
  bias: z.boolean().default(true),
  norm: z.enum(NORM_KINDS).default('layernorm'),
  placement: z.enum(PLACEMENTS).default('pre'),
  residual: z.enum(RESIDUALS).default('plain'),
  mixRatio: z.number().min(0).max(1).default(DEFAULT_MIX_RATIO),
  hyperStreams: posInt.max(16).default(DEFAULT_HYPER_STREAMS),
});

export const ResidualMLPConfigSchema = ResidualMLPConfigFields
  .strict()
  .superRefine((c, ctx) => {
    const problem = residualMLPProblem(c);
    if (problem) ctx.addIssue({ code: 'custom', path: [], message: problem, input: c.residual });
  });

export type ResidualMLPConfig = z.output<typeof ResidualMLPConfigSchema>;
export const DEFAULT_RESIDUAL_MLP_CONFIG: ResidualMLPConfig = ResidualMLPConfigSchema.parse({});

function designOf(c: ResidualMLPConfig): DesignFields {
  return { nLayer: c.depth, norm: c.norm, placement: c.placement, residual: c.residual, qkNorm: false, mixRatio: c.mixRatio, hyperStreams: c.hyperStreams };
}

function residualMLPProblem(c: ResidualMLPConfig): string | null {
  if (c.residual === 'value-residual') return `--residual value-residual mixes attention values across layers; the MLP has no attention: use plain, rezero, layerscale, hyper, … or none`;
  return designProblem(designOf(c));
}

/** One residual block: the feed-forward branch F(x) = W₂·ReLU(W₁·x) in its sub-layer design. */
class MLPBlock extends ResidualLayer {
  readonly fc1: Linear;
  readonly fc2: Linear;
  private readonly sub: Sublayer;
  private readonly drop: Dropout;
  constructor(c: ResidualMLPConfig, layer: number, rng: Rng) {
    super();
    this.sub = this.sublayer(1, sublayerDesign(designOf(c), layer, 0), { C: c.hidden, norm: c.norm, bias: c.bias });
    this.fc1 = this.child('fc1', new Linear(c.hidden, c.hidden, { bias: c.bias, init: kaiming(c.hidden) }));
    this.fc2 = this.child('fc2', new Linear(c.hidden, c.hidden, { bias: c.bias, init: kaiming(c.hidden) }));
    this.drop = this.child('drop', new Dropout(c.dropout, rng));
  }
  forward(x: Tensor): Tensor {
    const y = this.sub.forward(x, this, (h) => this.drop.forward(this.fc2.forward(relu(this.fc1.forward(h)))));
    taps()?.block(this, x, y); // the stream's RMS in and out, as a Transformer block reports it
    return y;
  }
}

/** torch.nn.Linear's default init: uniform in ±1/sqrt(fan_in) (Kaiming-uniform with a = √5). */
const kaiming = (fanIn: number) => ({ kind: 'uniform', bound: 1 / Math.sqrt(fanIn) }) as const;

export class ResidualMLP extends Module {
  readonly fc_in: Linear;
  readonly h: ModuleList<MLPBlock>;
  readonly ln_f: Norm | null;
  readonly head: Linear;
  readonly dropoutRng: Rng;

  private constructor(readonly config: ResidualMLPConfig, seed: number) {
    super();
    const c = config;
    this.dropoutRng = new Rng(seed ^ 0x5bd1e995);
    this.fc_in = this.child('fc_in', new Linear(c.inputs, c.hidden, { bias: c.bias, init: kaiming(c.inputs) }));
    this.h = this.child('h', new ModuleList(Array.from({ length: c.depth }, (_, i) => new MLPBlock(c, i, this.dropoutRng))));
    this.ln_f = needsFinalNorm(designOf(c)) ? this.child('ln_f', makeNorm(c.norm, c.hidden, c.bias)) : null;
    this.head = this.child('head', new Linear(c.hidden, c.classes, { bias: c.bias, init: kaiming(c.hidden) }));
  }

  static create(config: Partial<ResidualMLPConfig>, opts: { backend?: Backend; seed?: number; dtype?: 'float32' | 'float64' } = {}): ResidualMLP {
    const r = ResidualMLPConfigSchema.safeParse(config);
    if (!r.success) throw configError('residual MLP config', config, r.error, Object.keys(ResidualMLPConfigSchema.shape));
    const seed = opts.seed ?? 1337;
    const model = new ResidualMLP(r.data, seed);
    model.materialize(opts.backend ?? getDefaultBackend(), new Rng(seed), opts.dtype ?? 'float32');
    return model;
  }

  get backend(): Backend {
    return this.store!.backend;
  }

  /** x: (B, inputs) float → logits (B, classes). */
  logits(x: Tensor): Tensor {
    const B = x.shape[0];
    const H = this.config.hidden;
    let h = reshape(relu(this.fc_in.forward(x)), [B, 1, H]);
    const n = this.config.residual === 'hyper' ? this.config.hyperStreams : 0;
    if (n > 0) h = expand(reshape(h, [B, 1, 1, H]), [B, 1, n, H]);
    for (const block of this.h.items) h = block.forward(h);
    if (n > 0) h = sum(h, [2]);
    if (this.ln_f) h = this.ln_f.forward(h);
    return reshape(this.head.forward(h), [B, this.config.classes]);
  }
}
