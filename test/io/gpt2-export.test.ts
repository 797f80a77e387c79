// resnorm runs out as GPT-2 directories: export then import gives back every tensor bit for bit (the
// PyTorch fixtures, and a model resnorm made itself); exporting an imported F32 or F16 file rewrites
// its tensors exactly; and every design GPT-2 cannot hold is refused, naming each field and what it is.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { trainBpe } from '../../src/data/bpe-tokenizer.ts';
import { CharTokenizer } from '../../src/data/char-tokenizer.ts';
import { exportGpt2, gpt2ExportProblems, GPT2_OUTPUT_FILES } from '../../src/io/gpt2/gpt2-export.ts';
import { GPT2_DESIGN } from '../../src/io/gpt2/gpt2-design.ts';
import { Gpt2FormatError } from '../../src/io/gpt2/gpt2-error.ts';
import { importGpt2, GPT2_INPUT_FILES, type Gpt2InputFiles } from '../../src/io/gpt2/gpt2-import.ts';
import { decodeSafetensors } from '../../src/io/safetensors.ts';
import { DEFAULT_GPT_CONFIG, GPT, type GPTConfig } from '../../src/models/gpt.ts';
import { ACTIVATIONS } from '../../src/nn/activation.ts';
import { designProblem, PLACEMENTS, RESIDUALS } from '../../src/nn/design.ts';
import { NORM_KINDS } from '../../src/nn/norm.ts';
import type { HostTensor } from '../../src/nn/parameter-store.ts';
import { POSITIONAL_KINDS } from '../../src/nn/positional.ts';
import { FIXTURES } from '../helpers/fixtures.ts';

const GPT2_DIR = join(FIXTURES, 'gpt2');

function readFixtureDir(name: string): Gpt2InputFiles {
  const dir = join(GPT2_DIR, name);
  const present = new Set(readdirSync(dir));
  const files: Gpt2InputFiles = {};
  for (const f of GPT2_INPUT_FILES) if (present.has(f)) files[f] = new Uint8Array(readFileSync(join(dir, f)));
  return files;
}

const utf8 = (v: Uint8Array | string) => (typeof v === 'string' ? new TextEncoder().encode(v) : v);

function asInput(files: Record<string, Uint8Array | string>): Gpt2InputFiles {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [k, utf8(v)])) as Gpt2InputFiles;
}

function bits(a: ArrayLike<number>): Uint32Array {
  return new Uint32Array(Float32Array.from(a).buffer);
}

function expectSameState(a: ReadonlyMap<string, HostTensor>, b: ReadonlyMap<string, HostTensor>): void {
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [name, t] of a) {
    const u = b.get(name)!;
    expect(u.shape, name).toEqual(t.shape);
    expect(bits(u.data), name).toEqual(bits(t.data));
  }
}

describe('export-gpt2 then import-gpt2', () => {
  for (const variant of ['tiny', 'tiny-hf', 'tiny-untied']) {
    it(`round-trips ${variant} bit for bit`, () => {
      const first = importGpt2(readFixtureDir(variant), variant);
      const files = exportGpt2(first, variant);
      expect(Object.keys(files).sort()).toEqual([...GPT2_OUTPUT_FILES].sort());
      const second = importGpt2(asInput(files), 'exported');
      expectSameState(first.state, second.state);
      expect(second.model).toEqual(first.model);
      expect(second.tokenizer.merges).toEqual(first.tokenizer.merges);
      expect(second.tokenizer.specials).toEqual(first.tokenizer.specials);
      // A second export writes the same bytes.
      const again = exportGpt2(second, 'exported');
      for (const f of GPT2_OUTPUT_FILES) expect(utf8(again[f]), f).toEqual(utf8(files[f]));
    });
  }

  it("rewrites GPT-2's own tensors exactly: names, Conv1D layout and bits, in the file's dtype", () => {
    for (const [variant, dtype] of [['tiny', 'F32'], ['tiny-untied', 'F16']] as const) {
      const original = readFixtureDir(variant);
      const files = exportGpt2(importGpt2(original, variant), variant, dtype);
      const want = decodeSafetensors(original['model.safetensors']!).tensors;
      const got = decodeSafetensors(files['model.safetensors'] as Uint8Array);
      expect(got.metadata.format).toBe('pt');
      expect([...got.tensors.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [name, t] of want) {
        const u = got.tensors.get(name)!;
        expect(u.dtype, name).toBe(dtype);
        expect(u.shape, name).toEqual(t.shape);
        expect(bits(u.data), name).toEqual(bits(t.data));
      }
      const config = JSON.parse(files['config.json'] as string) as Record<string, unknown>;
      const source = JSON.parse(new TextDecoder().decode(original['config.json'])) as Record<string, unknown>;
      for (const k of ['vocab_size', 'n_positions', 'n_embd', 'n_layer', 'n_head', 'layer_norm_epsilon', 'tie_word_embeddings', 'bos_token_id', 'eos_token_id']) expect(config[k], k).toEqual(source[k]);
      expect(config).toMatchObject({ model_type: 'gpt2', activation_function: 'gelu_new', resid_pdrop: 0.1, embd_pdrop: 0.1, attn_pdrop: 0 });
    }
  });

  it('round-trips a model resnorm built, with a BPE tokenizer it trained', async () => {
    const tokenizer = trainBpe('the residual stream grows with depth; layer norm keeps it in range. '.repeat(20), 300);
    const config: GPTConfig = { ...DEFAULT_GPT_CONFIG, vocabSize: tokenizer.vocabSize, blockSize: 24, nLayer: 3, nHead: 2, nEmbd: 20, activation: 'gelu-tanh', tieWeights: false };
    const model = GPT.create(config, { backend: createRefBackend(), seed: 7 });
    const state = await model.store!.stateDict();
    const back = importGpt2(asInput(exportGpt2({ model: config, tokenizer, state }, 'made here')), 'exported');
    expectSameState(state, back.state);
    expect(back.model).toEqual({ ...config, dropout: 0 });
    expect(back.tokenizer.encode('layer norm')).toEqual(tokenizer.encode('layer norm'));
  });
});

// ------------------------------------------------------------------ refusals

const GPT2_CONFIG: GPTConfig = { ...DEFAULT_GPT_CONFIG, activation: 'gelu-tanh' };
const bpe = trainBpe('a tiny text to train on', 260);

/** A config that can be built, with `change` and, where the design needs them, the placement or norm it requires. */
function buildable(change: Partial<GPTConfig>): GPTConfig {
  for (const extra of [{}, { placement: 'post' }, { placement: 'none' }] as Partial<GPTConfig>[]) {
    const c = { ...GPT2_CONFIG, ...extra, ...change };
    if (designProblem(c) === null) return c;
  }
  throw new Error(`no buildable config with ${JSON.stringify(change)}`);
}

describe('export-gpt2 refuses what GPT-2 cannot hold', () => {
  it("accepts GPT-2's design, tied or untied, at any size", () => {
    expect(gpt2ExportProblems({ model: GPT2_CONFIG, tokenizer: bpe })).toEqual([]);
    expect(gpt2ExportProblems({ model: { ...GPT2_CONFIG, tieWeights: false, nLayer: 7, dropout: 0.2 }, tokenizer: bpe })).toEqual([]);
  });

  it('names every value of every field it refuses', () => {
    const refused: [Partial<GPTConfig>, RegExp][] = [
      ...NORM_KINDS.filter((n) => n !== 'layernorm').map((norm): [Partial<GPTConfig>, RegExp] => [{ norm }, new RegExp(`^norm = '${norm}' \\(.+\\): GPT-2 (normalizes with LayerNorm|has a LayerNorm)`)]),
      ...PLACEMENTS.filter((p) => p !== 'pre').map((placement): [Partial<GPTConfig>, RegExp] => [{ placement }, new RegExp(`^placement = '${placement}' \\(.+\\): GPT-2 `)]),
      ...RESIDUALS.filter((r) => r !== 'plain').map((residual): [Partial<GPTConfig>, RegExp] => [{ residual }, new RegExp(`^residual = '${residual}' \\(.+\\): GPT-2`)]),
      ...POSITIONAL_KINDS.filter((p) => p !== 'learned').map((positional): [Partial<GPTConfig>, RegExp] => [{ positional }, new RegExp(`^positional = '${positional}' \\(.+\\): GPT-2 learns its position embeddings`)]),
      ...ACTIVATIONS.filter((a) => a !== 'gelu-tanh').map((activation): [Partial<GPTConfig>, RegExp] => [{ activation }, /^activation = 'gelu' \(the exact, erf GELU\): GPT-2 uses the tanh approximation \(activation_function "gelu_new"\)/]),
      [{ bias: false }, /^bias = false \(Linear layers and LayerNorms without biases\): GPT-2's all have them$/],
      [{ qkNorm: true }, /^qkNorm = true \(queries and keys normalized per head\): GPT-2 has no QK-norm$/],
    ];
    for (const [change, pattern] of refused) {
      const problems = gpt2ExportProblems({ model: buildable(change), tokenizer: bpe });
      expect(problems.some((p) => pattern.test(p)), `${JSON.stringify(change)}: ${problems.join(' | ')}`).toBe(true);
    }
    // DeepNorm needs Post-LN: both fields are named.
    const deep = gpt2ExportProblems({ model: buildable({ residual: 'deepnorm' }), tokenizer: bpe });
    expect(deep).toHaveLength(2);
    expect(deep[0]).toMatch(/^placement = 'post' \(Post-LN, LN\(x \+ F\(x\)\), the norm after each residual add\): GPT-2 is pre-LN, x \+ F\(LN\(x\)\)$/);
    expect(deep[1]).toMatch(/^residual = 'deepnorm' \(DeepNorm, LN\(α·x \+ F\(x\)\)\): GPT-2's residual is a plain x \+ F\(·\)$/);
  });

  it('refuses a character tokenizer, and lists everything in one error', () => {
    const chars = CharTokenizer.fromText('abc');
    expect(gpt2ExportProblems({ model: { ...GPT2_CONFIG, vocabSize: 3 }, tokenizer: chars })).toEqual([
      "tokenizer = 'char' (one token per character of the training text): GPT-2's files hold a byte-level BPE vocabulary (vocab.json + merges.txt); train with --tokenizer bpe",
    ]);
    const model = { ...DEFAULT_GPT_CONFIG, vocabSize: 3, norm: 'rmsnorm', positional: 'sinusoidal' } as const;
    let error: unknown;
    try {
      exportGpt2({ model, tokenizer: chars, state: new Map() }, 'runs/x/checkpoints/step-00000400');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Gpt2FormatError);
    const lines = (error as Error).message.split('\n');
    expect(lines[0]).toBe('runs/x/checkpoints/step-00000400 cannot be written as GPT-2, which cannot hold:');
    expect(lines.slice(1, -1).map((l) => l.replace(/ \(.*/, ''))).toEqual(["  - norm = 'rmsnorm'", "  - positional = 'sinusoidal'", "  - activation = 'gelu'", "  - tokenizer = 'char'"]);
    expect(lines.at(-1)).toBe(`${GPT2_DESIGN}.`);
  });
});
