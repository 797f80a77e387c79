// GPT-2's tensors (Hugging Face's names and layout) to and from resnorm's GPT state dict. The names
// are the same (resnorm's GPT follows GPT-2's: wte, wpe, h.{i}.ln_1, h.{i}.attn.c_attn, …, ln_f), but
// GPT-2's projections are Conv1D modules whose weight is stored (in, out), the transpose of a Linear's
// (out, in): c_attn, attn.c_proj, c_fc and mlp.c_proj are transposed on the way in and out. Files
// saved from GPT2LMHeadModel prefix the names with 'transformer.' and may hold lm_head.weight (tied to
// wte unless the config unties it) and the attention's causal-mask buffers, attn.bias and
// attn.masked_bias, which are constants, not weights.

import type { HostTensor } from '../../nn/parameter-store.ts';
import type { DecodedTensor, SafetensorsDType, SafetensorsTensor } from '../safetensors.ts';
import type { GPTConfig } from '../../models/gpt-config.ts';
import { Gpt2FormatError } from './gpt2-error.ts';

/** One tensor of GPT-2's layout: its shape in the file, and whether it is a Conv1D weight, stored (in, out). */
interface Gpt2Tensor {
  name: string;
  shape: number[];
  conv1d: boolean;
  /** How the shape follows from config.json, for messages. */
  from: string;
}

/** Every tensor a GPT-2 of this config has, in model order (embeddings, blocks, final norm, head). */
export function gpt2Tensors(m: GPTConfig): Gpt2Tensor[] {
  const { vocabSize: V, blockSize: T, nEmbd: C } = m;
  const out: Gpt2Tensor[] = [
    { name: 'wte.weight', shape: [V, C], conv1d: false, from: '(vocab_size, n_embd)' },
    { name: 'wpe.weight', shape: [T, C], conv1d: false, from: '(n_positions, n_embd)' },
  ];
  const vec = (name: string, n: number, from: string) => out.push({ name, shape: [n], conv1d: false, from });
  const conv = (name: string, nIn: number, nOut: number, inKey: string, outKey: string) => {
    out.push({ name: `${name}.weight`, shape: [nIn, nOut], conv1d: true, from: `(${inKey}, ${outKey}), Conv1D's (in, out)` });
    vec(`${name}.bias`, nOut, `(${outKey})`);
  };
  for (let i = 0; i < m.nLayer; i++) {
    const h = `h.${i}`;
    vec(`${h}.ln_1.weight`, C, '(n_embd)');
    vec(`${h}.ln_1.bias`, C, '(n_embd)');
    conv(`${h}.attn.c_attn`, C, 3 * C, 'n_embd', '3·n_embd');
    conv(`${h}.attn.c_proj`, C, C, 'n_embd', 'n_embd');
    vec(`${h}.ln_2.weight`, C, '(n_embd)');
    vec(`${h}.ln_2.bias`, C, '(n_embd)');
    conv(`${h}.mlp.c_fc`, C, 4 * C, 'n_embd', '4·n_embd');
    conv(`${h}.mlp.c_proj`, 4 * C, C, '4·n_embd', 'n_embd');
  }
  vec('ln_f.weight', C, '(n_embd)');
  vec('ln_f.bias', C, '(n_embd)');
  if (!m.tieWeights) out.push({ name: 'lm_head.weight', shape: [V, C], conv1d: false, from: '(vocab_size, n_embd), a Linear' });
  return out;
}

/** The parameters of a GPT-2 of this config. */
export function gpt2ParameterCount(m: GPTConfig): number {
  return gpt2Tensors(m).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}

/** attn.bias and attn.masked_bias: the causal mask and the masking value GPT-2 stored as buffers. */
const MASK_BUFFER = /^h\.\d+\.attn\.(bias|masked_bias)$/;
const PREFIX = 'transformer.';
const FLOAT_DTYPES: readonly SafetensorsDType[] = ['F32', 'F16', 'BF16'];

/** (rows, cols) row-major → (cols, rows) row-major. */
function transpose(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * GPT-2's tensors (a decoded model.safetensors) as resnorm's state dict for the GPT `m` describes.
 * Refuses a tensor that is missing, misshapen, of a dtype other than F32/F16/BF16, or one GPT-2 has
 * no place for, and a head stored beside a tied embedding that is not that embedding.
 */
export function gpt2ToState(tensors: ReadonlyMap<string, DecodedTensor>, m: GPTConfig, where = 'model.safetensors'): { state: Map<string, HostTensor>; dtypes: SafetensorsDType[] } {
  const fail = (msg: string): never => {
    throw new Gpt2FormatError(`${where}: ${msg}`);
  };
  const byName = new Map<string, DecodedTensor>();
  for (const [raw, t] of tensors) {
    const name = raw.startsWith(PREFIX) ? raw.slice(PREFIX.length) : raw;
    if (MASK_BUFFER.test(name)) continue;
    if (byName.has(name)) fail(`holds '${name}' twice, with and without the '${PREFIX}' prefix`);
    byName.set(name, t);
  }
  const expected = gpt2Tensors(m);
  const known = new Set(expected.map((e) => e.name));
  // A tied head may still be stored (GPT2LMHeadModel saves it); it must then be the embedding.
  const tiedHead = m.tieWeights ? byName.get('lm_head.weight') : undefined;
  if (tiedHead) known.add('lm_head.weight');
  const extra = [...byName.keys()].filter((n) => !known.has(n));
  if (extra.length > 0) {
    const deeper = extra.some((n) => Number(/^h\.(\d+)\./.exec(n)?.[1] ?? -1) >= m.nLayer);
    const hint = deeper ? `; config.json says n_layer = ${m.nLayer}, but the file has more layers` : '';
    fail(`has tensors a GPT-2 of this config.json has no place for: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? `, … (${extra.length} in all)` : ''}${hint}`);
  }
  const state = new Map<string, HostTensor>();
  for (const e of expected) {
    const t = byName.get(e.name);
    if (!t) {
      const why = e.name === 'lm_head.weight' ? " (config.json's tie_word_embeddings is false, so the head is a tensor of its own)" : '';
      fail(`lacks '${e.name}'${why}; a GPT-2 of this config.json has ${expected.length} tensors (${expected[0].name}, ${expected[1].name}, ${expected[2].name}, …)`);
    }
    const tensor = t!;
    if (!FLOAT_DTYPES.includes(tensor.dtype)) fail(`'${e.name}' has dtype ${tensor.dtype}; GPT-2's weights are floating point: ${FLOAT_DTYPES.join(', ')}`);
    if (!sameShape(tensor.shape, e.shape)) fail(`'${e.name}' has shape ${fmt(tensor.shape)}, but config.json makes it ${fmt(e.shape)} ${e.from}`);
    const data = tensor.data as Float32Array;
    state.set(e.name, e.conv1d ? { shape: [e.shape[1], e.shape[0]], data: transpose(data, e.shape[0], e.shape[1]) } : { shape: e.shape, data });
  }
  if (tiedHead) {
    const wte = state.get('wte.weight')!.data as Float32Array;
    if (!sameShape(tiedHead.shape, [m.vocabSize, m.nEmbd]) || !FLOAT_DTYPES.includes(tiedHead.dtype) || !bitsEqual(tiedHead.data as Float32Array, wte)) {
      fail("holds an lm_head.weight that differs from wte.weight, but config.json ties them (tie_word_embeddings is true or absent); set \"tie_word_embeddings\": false in config.json if the head is trained apart");
    }
  }
  const dtypes = [...new Set(expected.map((e) => byName.get(e.name)!.dtype))].sort();
  return { state, dtypes };
}

/**
 * resnorm's state dict (a checkpoint's weights) as GPT-2's tensors, named as Hugging Face's GPT-2
 * checkpoints are (no prefix; lm_head.weight only when untied), in `dtype`.
 */
export function stateToGpt2(state: ReadonlyMap<string, HostTensor>, m: GPTConfig, dtype: 'F32' | 'F16' | 'BF16', where = 'the checkpoint'): Record<string, SafetensorsTensor> {
  const out: Record<string, SafetensorsTensor> = {};
  for (const e of gpt2Tensors(m)) {
    const t = state.get(e.name);
    const ours = e.conv1d ? [e.shape[1], e.shape[0]] : e.shape;
    if (!t || !sameShape(t.shape, ours)) {
      throw new Gpt2FormatError(`${where}: '${e.name}' is ${t ? `of shape ${fmt(t.shape)}` : 'missing'}, but its config makes it ${fmt(ours)}; the checkpoint is damaged`);
    }
    out[e.name] = { dtype, shape: e.shape, data: e.conv1d ? transpose(t.data, ours[0], ours[1]) : t.data };
  }
  return out;
}
