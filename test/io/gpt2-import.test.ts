// GPT-2 directories into resnorm: the fixtures of scripts/make_gpt2_fixture.py (tiny random GPT-2s in
// plain PyTorch: F32 with GPT-2's hub names; BF16 saved from GPT2LMHeadModel with the 'transformer.'
// prefix, a stored tied head and the mask buffers, tokenizer.json only; F16 with an untied head) give
// PyTorch's logits on every backend, directly and through the checkpoint an import writes; and a bad
// directory is refused with what is wrong.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importGpt2, importGpt2Config, type Gpt2InputFiles, GPT2_INPUT_FILES } from '../../src/io/gpt2/gpt2-import.ts';
import { Gpt2FormatError } from '../../src/io/gpt2/gpt2-error.ts';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../../src/io/safetensors.ts';
import { GPT, type GPTConfig } from '../../src/models/gpt.ts';
import type { HostTensor } from '../../src/nn/parameter-store.ts';
import { tensor } from '../../src/tensor/tensor.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import type { Backend } from '../../src/backend/backend.ts';
import { decodeWeights, parseRunConfig, parseState, parseTokenizer } from '../../src/train/checkpoint.ts';
import { gpt2ToRun } from '../../src/cli/gpt2-run.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { relError } from '../helpers/compare.ts';
import { FIXTURES, loadFixture, get } from '../helpers/fixtures.ts';

const GPT2_DIR = join(FIXTURES, 'gpt2');
const VARIANTS = ['tiny', 'tiny-hf', 'tiny-untied'] as const;
const expected = JSON.parse(readFileSync(join(GPT2_DIR, 'expected.json'), 'utf8')) as { variants: Record<string, { dtype: string; sequences: number[][] }> };
const logits = loadFixture('gpt2', 'expected.safetensors');
/** Float32 against PyTorch's float64 forward, relative to the largest logit (the parity suite's forward tolerance). */
const TOL = 1e-5;

function readFixtureDir(name: string): Gpt2InputFiles {
  const dir = join(GPT2_DIR, name);
  const present = new Set(readdirSync(dir));
  const files: Gpt2InputFiles = {};
  for (const f of GPT2_INPUT_FILES) if (present.has(f)) files[f] = new Uint8Array(readFileSync(join(dir, f)));
  return files;
}

function modelFrom(config: GPTConfig, state: ReadonlyMap<string, HostTensor>, backend: Backend): GPT {
  const m = GPT.create(config, { backend });
  m.store!.loadStateDict(state);
  return m.eval();
}

async function logitsOf(model: GPT, ids: number[]): Promise<Float32Array> {
  return noGrad(async () => {
    const idx = tensor(Int32Array.from(ids), [1, ids.length], { backend: model.backend, dtype: 'int32' });
    return (await model.forward(idx).logits.toArray()) as Float32Array;
  });
}

describe('import-gpt2: logits equal PyTorch', () => {
  for (const variant of VARIANTS) {
    for (const be of BACKENDS) {
      it(`${variant} on ${be.name}`, async () => {
        const imp = importGpt2(readFixtureDir(variant), variant);
        expect(imp.dtypes).toEqual([expected.variants[variant].dtype]);
        const model = modelFrom(imp.model, imp.state, be.make());
        const seqs = expected.variants[variant].sequences;
        expect(seqs.length).toBeGreaterThan(0);
        for (const [i, ids] of seqs.entries()) {
          const want = get(logits, `${variant}.logits.${i}`);
          expect(want.shape).toEqual([ids.length, imp.model.vocabSize]);
          const err = relError(await logitsOf(model, ids), want.data);
          expect(err, `${variant} sequence ${i}`).toBeLessThan(TOL);
        }
      });
    }
  }

  it('maps the config to GPT-2’s design and the tied or untied head', () => {
    const tiny = importGpt2(readFixtureDir('tiny'), 'tiny');
    expect(tiny.model).toMatchObject({ vocabSize: 273, blockSize: 16, nLayer: 2, nHead: 3, nEmbd: 12, norm: 'layernorm', placement: 'pre', residual: 'plain', positional: 'learned', activation: 'gelu-tanh', bias: true, tieWeights: true, dropout: 0.1 });
    expect(tiny.state.has('lm_head.weight')).toBe(false);
    // GPT-2's attention dropout has no place in resnorm, and the import says so.
    expect(tiny.notes.join('\n')).toMatch(/attn_pdrop = 0\.1: resnorm does not drop attention probabilities/);
    expect(importGpt2(readFixtureDir('tiny'), 'tiny', { dropout: 0 }).model.dropout).toBe(0);
    const untied = importGpt2(readFixtureDir('tiny-untied'), 'tiny-untied');
    expect(untied.model.tieWeights).toBe(false);
    expect(untied.state.get('lm_head.weight')!.shape).toEqual([273, 12]);
    // Conv1D (in, out) became Linear (out, in).
    expect(tiny.state.get('h.0.attn.c_attn.weight')!.shape).toEqual([36, 12]);
    expect(tiny.state.get('h.1.mlp.c_proj.weight')!.shape).toEqual([12, 48]);
  });

  it('fails with the exact GELU in place of the tanh one: the tolerance sees the activation', async () => {
    const imp = importGpt2(readFixtureDir('tiny'), 'tiny');
    const model = modelFrom({ ...imp.model, activation: 'gelu' }, imp.state, createRefBackend());
    const ids = expected.variants.tiny.sequences.at(-1)!;
    const err = relError(await logitsOf(model, ids), get(logits, `tiny.logits.${expected.variants.tiny.sequences.length - 1}`).data);
    expect(err).toBeGreaterThan(10 * TOL);
  });

  it('writes a checkpoint at step 0 that gives the same logits, bit for bit', async () => {
    for (const variant of VARIANTS) {
      const run = await gpt2ToRun(readFixtureDir(variant), variant);
      const text = (f: 'config.json' | 'tokenizer.json' | 'state.json') => run.files[f] as string;
      const config = parseRunConfig(text('config.json'), variant);
      expect(config.train.tokenizer).toBe('bpe');
      expect(config.model).toEqual(run.imported.model);
      expect(parseTokenizer(text('tokenizer.json'), variant).encode('hello world<|endoftext|>')).toEqual(run.imported.tokenizer.encode('hello world<|endoftext|>'));
      expect(parseState(text('state.json'), variant)).toMatchObject({ step: 0, bestValLoss: null, lastValLoss: null });
      const { state, step } = decodeWeights(run.files['model.safetensors'] as Uint8Array, 'model.safetensors');
      expect(step).toBe(0);
      const opt = decodeSafetensors(run.files['optimizer.safetensors'] as Uint8Array);
      expect(opt.tensors.get('m')!.data.length).toBe(run.parameters);
      expect(opt.tensors.get('m')!.data.every((x) => x === 0)).toBe(true);
      const be = createRefBackend();
      const ids = expected.variants[variant].sequences[0];
      const imp = importGpt2(readFixtureDir(variant), variant);
      const direct = await logitsOf(modelFrom(imp.model, imp.state, be), ids);
      const viaCheckpoint = await logitsOf(modelFrom(config.model, state, be), ids);
      expect(viaCheckpoint).toEqual(direct);
    }
  });
});

// ------------------------------------------------------------------ bad directories

const tinyFiles = () => readFixtureDir('tiny');

function withConfig(edit: (c: Record<string, unknown>) => void): Gpt2InputFiles {
  const files = tinyFiles();
  const c = JSON.parse(new TextDecoder().decode(files['config.json'])) as Record<string, unknown>;
  edit(c);
  return { ...files, 'config.json': new TextEncoder().encode(JSON.stringify(c)) };
}

function withTensors(edit: (t: Map<string, SafetensorsTensor>) => void, files = tinyFiles()): Gpt2InputFiles {
  const decoded = decodeSafetensors(files['model.safetensors']!);
  const tensors = new Map<string, SafetensorsTensor>(decoded.tensors);
  edit(tensors);
  return { ...files, 'model.safetensors': encodeSafetensors(Object.fromEntries(tensors)) };
}

function refuses(files: Gpt2InputFiles, pattern: RegExp, opts: { present?: string[]; maxParameters?: number } = {}): void {
  let error: unknown;
  try {
    importGpt2(files, 'models/tiny', opts);
  } catch (e) {
    error = e;
  }
  expect(error, String(pattern)).toBeInstanceOf(Error);
  expect((error as Error).message).toMatch(pattern);
}

describe('import-gpt2 refuses a bad directory', () => {
  it('with a file missing', () => {
    const { 'config.json': _c, ...noConfig } = tinyFiles();
    refuses(noConfig, /^models\/tiny has no config\.json; a GPT-2 model directory holds config\.json, model\.safetensors, and vocab\.json with merges\.txt \(or tokenizer\.json\)$/);
    const { 'model.safetensors': _m, ...noWeights } = tinyFiles();
    refuses(noWeights, /models\/tiny has no model\.safetensors; a GPT-2/);
    refuses(noWeights, /it has pytorch_model\.bin, which resnorm does not read: save the model as one model\.safetensors/, { present: ['config.json', 'pytorch_model.bin'] });
    const { 'merges.txt': _t, ...noMerges } = tinyFiles();
    refuses(noMerges, /models\/tiny has vocab\.json without merges\.txt; a GPT-2 model directory holds/);
  });

  it('with a config.json that is not a GPT-2 resnorm can build', () => {
    refuses({ ...tinyFiles(), 'config.json': new TextEncoder().encode('{"n_embd": 12,') }, /models\/tiny\/config\.json is not valid JSON/);
    const cases: [(c: Record<string, unknown>) => void, RegExp][] = [
      [(c) => delete c.n_embd, /config\.json: 'n_embd' is missing; a GPT-2 config gives vocab_size, n_positions, n_embd, n_layer and n_head/],
      [(c) => (c.n_layer = 0), /'n_layer' = 0; it must be a positive integer/],
      [(c) => (c.n_head = 5), /n_embd = 12 is not divisible by n_head = 5/],
      [(c) => (c.model_type = 'gpt_neo'), /model_type is "gpt_neo", not "gpt2"/],
      [(c) => (c.layer_norm_epsilon = 1e-6), /layer_norm_epsilon = 0\.000001: resnorm's LayerNorm uses ε = 1e-5/],
      [(c) => (c.n_inner = 30), /n_inner = 30: resnorm's MLP is 4·n_embd = 48 wide/],
      [(c) => (c.activation_function = 'relu'), /activation_function = "relu": resnorm has GPT-2's GELU \("gelu_new", "gelu_pytorch_tanh"\) and the exact one/],
      [(c) => (c.scale_attn_by_inverse_layer_idx = true), /'scale_attn_by_inverse_layer_idx' = true: resnorm does not scale attention by the layer's index/],
      [(c) => (c.add_cross_attention = true), /without cross-attention/],
      [(c) => (c.resid_pdrop = 1.5), /'resid_pdrop' = 1\.5; a dropout probability is a number in \[0, 1\)/],
      [(c) => (c.vocab_size = 300), /config\.json has vocab_size = 300, but the tokenizer \(vocab\.json \+ merges\.txt\) has 273 tokens/],
    ];
    for (const [edit, pattern] of cases) refuses(withConfig(edit), pattern);
  });

  it('with tensors of the wrong shape, missing, extra or of a dtype that is not floating point', () => {
    refuses(withConfig((c) => (c.n_positions = 32)), /model\.safetensors: 'wpe\.weight' has shape \[16, 12\], but config\.json makes it \[32, 12\] \(n_positions, n_embd\)/);
    refuses(withConfig((c) => (c.n_layer = 3)), /model\.safetensors: lacks 'h\.2\.ln_1\.weight'; a GPT-2 of this config\.json has 40 tensors/);
    refuses(withConfig((c) => (c.n_layer = 1)), /has tensors a GPT-2 of this config\.json has no place for: h\.1\.ln_1\.weight, .*; config\.json says n_layer = 1, but the file has more layers/);
    refuses(withConfig((c) => (c.tie_word_embeddings = false)), /lacks 'lm_head\.weight' \(config\.json's tie_word_embeddings is false, so the head is a tensor of its own\)/);
    refuses(
      withTensors((t) => t.set('h.0.attn.c_attn.weight', { ...t.get('h.0.attn.c_attn.weight')!, shape: [36, 12] })),
      /'h\.0\.attn\.c_attn\.weight' has shape \[36, 12\], but config\.json makes it \[12, 36\] \(n_embd, 3·n_embd\), Conv1D's \(in, out\)/,
    );
    refuses(withTensors((t) => t.set('h.0.mlp.gate.weight', { dtype: 'F32', shape: [2], data: [1, 2] })), /no place for: h\.0\.mlp\.gate\.weight/);
    refuses(withTensors((t) => t.set('ln_f.bias', { dtype: 'I32', shape: [12], data: new Array(12).fill(0) })), /'ln_f\.bias' has dtype I32; GPT-2's weights are floating point: F32, F16, BF16/);
    refuses(withTensors((t) => t.set('transformer.ln_f.bias', t.get('ln_f.bias')!)), /holds 'ln_f\.bias' twice, with and without the 'transformer\.' prefix/);
    refuses(
      withTensors((t) => t.set('lm_head.weight', { ...t.get('wte.weight')!, data: Float32Array.from(t.get('wte.weight')!.data, (x) => x + 1) })),
      /holds an lm_head\.weight that differs from wte\.weight, but config\.json ties them/,
    );
  });

  it('with a model.safetensors that is not one', () => {
    const files = tinyFiles();
    // An unknown dtype, as a newer tool might write: the reader names it.
    const bytes = files['model.safetensors']!.slice();
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))));
    const at = header.indexOf('"F32"');
    bytes.set(new TextEncoder().encode('"Q4K"'), 8 + at);
    refuses({ ...files, 'model.safetensors': bytes }, /models\/tiny\/model\.safetensors.*has dtype 'Q4K', not a safetensors dtype/);
    refuses({ ...files, 'model.safetensors': bytes.subarray(0, 100) }, /models\/tiny\/model\.safetensors/);
  });

  it('too large for a run, from config.json alone, before the weights', async () => {
    // GPT-2 medium's shape, with the fixture's vocabulary; the tiny weights are never looked at.
    const { 'model.safetensors': _m, ...configOnly } = withConfig((c) => Object.assign(c, { n_embd: 1024, n_layer: 24, n_head: 16, n_positions: 1024 }));
    const pattern = /config\.json describes a GPT-2 of 30\d,[\d,]+ parameters; a resnorm run holds at most 134,217,728 .*GPT-2 small \(124M\) fits, GPT-2 medium \(355M\) and larger do not/;
    refuses(configOnly, pattern, { maxParameters: 2 ** 27 });
    await expect(gpt2ToRun(withConfig((c) => Object.assign(c, { n_embd: 1024, n_layer: 24, n_head: 16 })), 'models/tiny')).rejects.toThrow(pattern);
    // GPT-2 small itself is within.
    const small = withConfig((c) => Object.assign(c, { vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024 }));
    expect(importGpt2Config(small, 'x', { maxParameters: 2 ** 27 }).model.nEmbd).toBe(768);
  });

  it('says which errors are its own', () => {
    expect(() => importGpt2(withConfig((c) => (c.n_inner = 30)), 'x')).toThrow(Gpt2FormatError);
  });
});
