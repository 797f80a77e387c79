// The PyTorch fixtures' contents, without the file system (so a browser page can use them too):
// decoding, tensors by name, and a GPT fixture's config and weights as the engine takes them.

import { decodeSafetensors, type DecodedTensor } from '../../src/io/safetensors.ts';
import type { GPTConfig } from '../../src/models/gpt.ts';
import type { HostTensor } from '../../src/nn/parameter-store.ts';

export interface Fixture {
  name: string;
  tensors: Map<string, DecodedTensor>;
  metadata: Record<string, string>;
}

/** A fixture file's bytes as a Fixture named `name` (its file name without .safetensors). */
export function decodeFixture(bytes: Uint8Array, name: string): Fixture {
  const { tensors, metadata } = decodeSafetensors(bytes, { source: name });
  return { name: name.replace(/^.*\//, '').replace(/\.safetensors$/, ''), tensors, metadata };
}

export function get(f: Fixture, name: string): DecodedTensor {
  const t = f.tensors.get(name);
  if (!t) throw new Error(`fixture ${f.name} has no tensor '${name}'`);
  return t;
}

/** A GPT fixture's config, as scripts/make_fixtures.py writes it (snake_case JSON in the metadata). */
export interface FixtureGPTConfig {
  vocab_size: number;
  block_size: number;
  n_layer: number;
  n_head: number;
  n_embd: number;
  dropout: number;
  bias: boolean;
  norm: GPTConfig['norm'];
  placement: GPTConfig['placement'];
  pos: GPTConfig['positional'];
  tie: boolean;
  // The design fields (docs/designs.md); the original gpt/ cases predate them and take the defaults.
  residual?: GPTConfig['residual'];
  qk_norm?: boolean;
  mix_ratio?: number;
  hyper_streams?: number;
}

/** The fixture's model config as a GPTConfig (activation 'gelu': the fixtures use torch.nn.GELU()). */
export function gptConfigOf(fx: Fixture): GPTConfig {
  const c = JSON.parse(fx.metadata.config) as FixtureGPTConfig;
  return {
    vocabSize: c.vocab_size,
    blockSize: c.block_size,
    nLayer: c.n_layer,
    nHead: c.n_head,
    nEmbd: c.n_embd,
    dropout: c.dropout,
    bias: c.bias,
    norm: c.norm,
    placement: c.placement,
    residual: c.residual ?? 'plain',
    qkNorm: c.qk_norm ?? false,
    mixRatio: c.mix_ratio ?? 0.25,
    hyperStreams: c.hyper_streams ?? 4,
    positional: c.pos,
    tieWeights: c.tie,
    activation: 'gelu',
  };
}

/** The fixture's tensors named `<prefix><name>`, by name, as host tensors (e.g. 'param.', 'traj.buffer.'). */
export function tensorsOf(fx: Fixture, prefix: string): Map<string, HostTensor> {
  const m = new Map<string, HostTensor>();
  for (const [name, t] of fx.tensors) if (name.startsWith(prefix)) m.set(name.slice(prefix.length), { shape: t.shape, data: t.data as Float32Array });
  return m;
}

/**
 * What a model loads from a GPT fixture: every parameter and every module buffer (BatchNorm's running
 * statistics), the sinusoidal table `buffer.pe` left out (the model computes it; it is no module buffer).
 */
export function modelStateOf(fx: Fixture): Map<string, HostTensor> {
  const state = tensorsOf(fx, 'param.');
  for (const [name, t] of tensorsOf(fx, 'buffer.')) if (name !== 'pe') state.set(name, t);
  return state;
}
