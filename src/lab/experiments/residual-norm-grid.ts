// Experiment 2: residual plain/none × norm layernorm/none, at depth 8 and 16.

import type { Arm, Claim, Experiment } from '../index-types.ts';
import { arm, FULL, lower, QUICK } from './common.ts';

function grid(depths: number[]): Arm[] {
  return depths.flatMap((L) => [
    arm(`d${L}-res-ln`, `L${L} residual + LN`, { nLayer: L, residual: 'plain', norm: 'layernorm' }),
    arm(`d${L}-res-nonorm`, `L${L} residual, no norm`, { nLayer: L, residual: 'plain', norm: 'none' }),
    arm(`d${L}-nores-ln`, `L${L} LN, no residual`, { nLayer: L, residual: 'none', norm: 'layernorm' }),
    arm(`d${L}-nores-nonorm`, `L${L} neither`, { nLayer: L, residual: 'none', norm: 'none' }),
  ]);
}

function together(L: number): Claim {
  return {
    id: `together-${L}`,
    text: `At depth ${L}, residual connections and LayerNorm together beat either alone`,
    conditions: [lower(`d${L}-res-ln`, `d${L}-res-nonorm`), lower(`d${L}-res-ln`, `d${L}-nores-ln`)],
  };
}

const arms = grid([8, 16]);

export const residualNormGrid: Experiment = {
  name: 'residual-norm-grid',
  title: 'Residual connections × LayerNorm, 2×2, at depth 8 and 16',
  finding: 'residual connections and normalization together beat either alone',
  paper: {
    citation: 'Vaswani et al. 2017, "Attention Is All You Need" (NeurIPS), §3.1; He et al. 2016 (CVPR); Ba, Kiros & Hinton 2016, "Layer Normalization"',
    found:
      'The Transformer wraps every sub-layer in both a residual connection and a LayerNorm (§3.1: "LayerNorm(x + Sublayer(x))"). The two come from separate papers — residuals let deep networks optimise (He et al. 2016, Table 2), LayerNorm speeds up and stabilises training (Ba et al. 2016) — and no single paper we know of reports this 2×2 ablation for a Transformer language model with numbers; the claim is the textbook one this project starts from.',
  },
  differences:
    'Pre-LN placement (x + F(LN(x)), with a final LN when the norm exists); "no norm" removes every norm including the final one. Tiny character-level models (width 32, block 32) for a few hundred steps: the comparison is of early training, where an un-normalised residual stack can be competitive.',
  plans: {
    quick: { base: { ...QUICK, nEmbd: 32, blockSize: 32 }, arms, seeds: 3 },
    full: { base: { ...FULL, nEmbd: 128, nHead: 4 }, arms, seeds: 3 },
  },
  claims: [together(8), together(16)],
  columns: [],
  figures: [
    { kind: 'curves', title: 'Validation loss, depth 8', arms: ['d8-res-ln', 'd8-res-nonorm', 'd8-nores-ln', 'd8-nores-nonorm'] },
    { kind: 'curves', title: 'Validation loss, depth 16', arms: ['d16-res-ln', 'd16-res-nonorm', 'd16-nores-ln', 'd16-nores-nonorm'] },
    { kind: 'bars', title: 'Final validation loss', metric: 'finalValLoss', yLabel: 'nats' },
  ],
};
