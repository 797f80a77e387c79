// Where the norms sit and how the residual is added, as data (docs/designs.md). A placement and a
// residual rule, for one layer of a stack, become a SublayerDesign: which of the sub-layer's optional
// norms exist and which rule joins the branch to the stream. Every model that wraps sub-layers
// (the GPT's blocks, the encoder-decoder's, later the classifiers') asks here, so a design is one
// entry in these switches and nowhere else.

import type { NormKind } from './norm.ts';

export const PLACEMENTS = ['pre', 'post', 'peri', 'sandwich', 'mix', 'none'] as const;
export type Placement = (typeof PLACEMENTS)[number];

export const RESIDUALS = ['plain', 'deepnorm', 'rezero', 'layerscale', 'admin', 'hyper', 'value-residual', 'none'] as const;
export type Residual = (typeof RESIDUALS)[number];

/** How the branch output u joins the stream x (before any post-add norm). */
export type ResidualRule =
  | { kind: 'add' } // x + u
  | { kind: 'scaled-stream'; alpha: number } // α·x + u (DeepNorm)
  | { kind: 'gate'; shape: 'scalar' | 'channel'; init: number } // x + g ⊙ u (ReZero: scalar 0; LayerScale: per channel)
  | { kind: 'stream-weight' } // ω ⊙ x + u, ω per channel from a profiling pass (Admin)
  | { kind: 'hyper'; streams: number; index: number } // hyper-connections; index = the sub-layer's place in the stack
  | { kind: 'branch-only' }; // u: no shortcut

export interface SublayerDesign {
  inNorm: boolean;
  outNorm: boolean;
  postNorm: boolean;
  rule: ResidualRule;
}

/** The design fields of a model config (GPTConfig has them all), for a stack of nLayer layers. */
export interface DesignFields {
  nLayer: number;
  norm: NormKind;
  placement: Placement;
  residual: Residual;
  qkNorm: boolean;
  mixRatio: number;
  hyperStreams: number;
  /**
   * The stack's place in an encoder-decoder (absent: a decoder-only or encoder-only stack). Only
   * DeepNorm's constants depend on it, which take both depths (Wang et al. 2022, Table 1).
   */
  stack?: EncoderDecoderStack;
}

/** One of the two stacks of an encoder-decoder: N encoder and M decoder layers. */
export interface EncoderDecoderStack {
  role: 'encoder' | 'decoder';
  encoderLayers: number;
  decoderLayers: number;
}

/** The norms a placement puts around one sub-layer of layer `layer` (0-based) of an L-layer stack. */
function normsOf(placement: Placement, layer: number, L: number, mixRatio: number): Pick<SublayerDesign, 'inNorm' | 'outNorm' | 'postNorm'> {
  switch (placement) {
    case 'pre':
      return { inNorm: true, outNorm: false, postNorm: false };
    case 'post':
      return { inNorm: false, outNorm: false, postNorm: true };
    case 'peri':
    case 'sandwich':
      return { inNorm: true, outNorm: true, postNorm: false };
    case 'mix':
      return normsOf(layer < mixPostLayers(L, mixRatio) ? 'post' : 'pre', layer, L, mixRatio);
    case 'none':
      return { inNorm: false, outNorm: false, postNorm: false };
    default: {
      const never: never = placement;
      throw new Error(`unknown placement '${String(never)}'`);
    }
  }
}

/** Mix-LN: the first ⌊ρ·L⌋ layers are post-LN. */
export function mixPostLayers(L: number, mixRatio: number): number {
  return Math.floor(mixRatio * L);
}

/**
 * The sub-layer `k` (0-based, in the order they run) of layer `layer`, in a stack whose layers have
 * `perLayer` sub-layers each: 2 in the GPT's and the encoder's blocks (attention, feed-forward), 3 in
 * the decoder's (self-attention, cross-attention, feed-forward).
 */
export function sublayerDesign(d: DesignFields, layer: number, k: number, perLayer = 2): SublayerDesign {
  if (!(Number.isInteger(k) && k >= 0 && k < perLayer)) {
    throw new Error(`sublayerDesign: sub-layer ${k} does not exist in a layer of ${perLayer} sub-layers (0 … ${perLayer - 1})`);
  }
  const norms = normsOf(d.placement, layer, d.nLayer, d.mixRatio);
  return { ...norms, rule: ruleOf(d, perLayer * layer + k) };
}

/** `index`: the sub-layer's place in its stack, counting from 0. */
function ruleOf(d: DesignFields, index: number): ResidualRule {
  const L = d.nLayer;
  switch (d.residual) {
    case 'plain':
    case 'value-residual': // the stream's residual is plain; the values are mixed inside attention
      return { kind: 'add' };
    case 'deepnorm':
      return { kind: 'scaled-stream', alpha: deepNormOf(d).alpha };
    case 'rezero':
      return { kind: 'gate', shape: 'scalar', init: 0 };
    case 'layerscale':
      return { kind: 'gate', shape: 'channel', init: layerScaleInit(L) };
    case 'admin':
      return { kind: 'stream-weight' };
    case 'hyper':
      return { kind: 'hyper', streams: d.hyperStreams, index };
    case 'none':
      return { kind: 'branch-only' };
    default: {
      const never: never = d.residual;
      throw new Error(`unknown residual '${String(never)}'`);
    }
  }
}

export interface DeepNormConstants {
  /** The stream's weight in α·x + F(x). */
  alpha: number;
  /** The Xavier-normal gain of the value, output and feed-forward projections. */
  beta: number;
}

/** DeepNorm's decoder-only (and encoder-only) constants (Wang et al. 2022): α = (2N)^¼, β = (8N)^−¼. */
export function deepNormConstants(N: number): DeepNormConstants {
  return { alpha: Math.pow(2 * N, 0.25), beta: Math.pow(8 * N, -0.25) };
}

/**
 * DeepNorm's encoder-decoder constants (Wang et al. 2022, Table 1), N encoder and M decoder layers:
 * encoder α = 0.81·(N⁴M)^(1/16), β = 0.87·(N⁴M)^(−1/16); decoder α = (3M)^¼, β = (12M)^(−¼).
 */
export function deepNormEncoderDecoderConstants(N: number, M: number): { encoder: DeepNormConstants; decoder: DeepNormConstants } {
  const nm = Math.pow(N, 4) * M;
  return {
    encoder: { alpha: 0.81 * Math.pow(nm, 1 / 16), beta: 0.87 * Math.pow(nm, -1 / 16) },
    decoder: { alpha: Math.pow(3 * M, 0.25), beta: Math.pow(12 * M, -0.25) },
  };
}

/** The DeepNorm constants of the stack `d` describes: its own depth alone, or both depths in an encoder-decoder. */
export function deepNormOf(d: DesignFields): DeepNormConstants {
  if (!d.stack) return deepNormConstants(d.nLayer);
  return deepNormEncoderDecoderConstants(d.stack.encoderLayers, d.stack.decoderLayers)[d.stack.role];
}

/** CaiT's LayerScale init by depth (Touvron et al. 2021). */
export function layerScaleInit(L: number): number {
  return L <= 18 ? 0.1 : L <= 24 ? 1e-5 : 1e-6;
}

/** Whether the stream leaving the stack is un-normalized, so a final norm (GPT-2's ln_f) follows. */
export function needsFinalNorm(d: DesignFields): boolean {
  switch (d.placement) {
    case 'pre':
    case 'peri':
    case 'sandwich':
      return true;
    case 'post':
    case 'none':
      return false;
    case 'mix':
      return mixPostLayers(d.nLayer, d.mixRatio) < d.nLayer;
    default: {
      const never: never = d.placement;
      throw new Error(`unknown placement '${String(never)}'`);
    }
  }
}

/** Whether the embedding output is normalized once before the first layer (Peri-LN). */
export function needsEmbeddingNorm(placement: Placement): boolean {
  return placement === 'peri';
}

export const DEFAULT_MIX_RATIO = 0.25;
export const DEFAULT_HYPER_STREAMS = 4;

/**
 * Why a combination of design fields cannot be built, or null when it can (docs/designs.md,
 * "Combinations"). The one place this is decided: config files, flags, checkpoints and GPT.create ask here.
 */
export function designProblem(d: DesignFields): string | null {
  const postOnly = (what: string) =>
    d.placement !== 'post'
      ? `--residual ${d.residual} is ${what}, a rule of Post-LN (its norm follows the add): it needs --placement post, not '${d.placement}'`
      : d.norm === 'none'
        ? `--residual ${d.residual} is ${what}, which normalizes after the add: it needs a norm, not --norm none`
        : null;
  switch (d.residual) {
    case 'deepnorm': {
      const p = postOnly('DeepNorm (Wang et al. 2022), LN(α·x + F(x))');
      if (p) return p;
      break;
    }
    case 'admin': {
      const p = postOnly('Admin (Liu et al. 2020), LN(ω·x + F(x))');
      if (p) return p;
      break;
    }
    case 'rezero':
      if (d.placement !== 'none' && d.norm !== 'none') {
        return `--residual rezero is ReZero's no-norm form (Bachlechner et al. 2020), x + α·F(x) with no normalization, but --placement ${d.placement} with --norm ${d.norm} adds norms: pass --placement none (or --norm none); for a learned gate on a pre-LN branch use --residual layerscale`;
      }
      break;
    case 'layerscale':
      if (d.placement === 'post' || d.placement === 'mix') {
        return `--residual layerscale (Touvron et al. 2021) scales a branch added to an un-normalized stream; --placement ${d.placement} normalizes after the add: use pre, peri, sandwich or none`;
      }
      break;
    case 'hyper':
      if (d.placement === 'post' || d.placement === 'mix' || d.placement === 'none') {
        return `--residual hyper (hyper-connections, Zhu et al. 2024) replaces the residual of pre-norm blocks, whose norm reads the mixed streams; --placement ${d.placement} has none there: use pre, peri or sandwich`;
      }
      break;
    case 'plain':
    case 'value-residual':
    case 'none':
      break;
    default: {
      const never: never = d.residual;
      throw new Error(`unknown residual '${String(never)}'`);
    }
  }
  if (d.qkNorm && d.norm !== 'layernorm' && d.norm !== 'rmsnorm') {
    return `--qk-norm normalizes each head's queries and keys with the model's norm, which must be layernorm or rmsnorm, not '${d.norm}'`;
  }
  if (d.hyperStreams !== DEFAULT_HYPER_STREAMS && d.residual !== 'hyper') {
    return `--hyper-streams ${d.hyperStreams} only applies to --residual hyper (the residual is '${d.residual}')`;
  }
  if (d.mixRatio !== DEFAULT_MIX_RATIO && d.placement !== 'mix') {
    return `--mix-ratio ${d.mixRatio} only applies to --placement mix (the placement is '${d.placement}')`;
  }
  return null;
}

/** One line for logs and `resnorm info`: "pre-LN (layernorm), plain residual", "mix-LN ρ=0.5 (rmsnorm), QK-norm, …". */
export function describeDesign(d: DesignFields): string {
  const placement = d.placement === 'none' ? 'no norm placement' : d.placement === 'mix' ? `mix-LN ρ=${d.mixRatio}` : `${d.placement}-LN`;
  const residual = d.residual === 'hyper' ? `hyper residual (${d.hyperStreams} streams)` : d.residual === 'none' ? 'no residual' : `${d.residual} residual`;
  return `${placement} (${d.norm}), ${residual}${d.qkNorm ? ', QK-norm' : ''}`;
}
