// GPT-2 at its real size (issue 16): a 124M GPT-2-small directory with random weights is built here
// (config.json, model.safetensors, and GPT-2's real vocab.json + merges.txt rebuilt from the rank
// table gpt-tokenizer ships), then `resnorm import-gpt2`'s import path is timed, then loading the run
// and cached generation (batch 1, greedy) on the wasm backend at each thread count.

import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import r50k from 'gpt-tokenizer/bpeRanks/r50k_base';
import { createWasmBackend } from '../src/backend/wasm/index.ts';
import { importGpt2Dir } from '../src/cli/gpt2-commands.ts';
import { openRun } from '../src/cli/run-dir.ts';
import { BYTE_TO_CHAR } from '../src/data/byte-unicode.ts';
import { GPT2_END_OF_TEXT } from '../src/data/gpt2-vocab.ts';
import { mergesFromRanks } from '../src/data/gpt2-ranks.ts';
import { gpt2Tensors } from '../src/io/gpt2/gpt2-weights.ts';
import { encodeSafetensors, type SafetensorsTensor } from '../src/io/safetensors.ts';
import { generate } from '../src/models/generate.ts';
import { DEFAULT_GPT_CONFIG, type GPTConfig } from '../src/models/gpt.ts';
import { loadCheckpoint, modelOf } from '../src/train/run-checkpoints.ts';
import type { Row } from './report.ts';

/** GPT-2 small, as OpenAI's config.json gives it. */
export const GPT2_SMALL = { vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12 };

/** Uniform values in ±a·√3 (standard deviation a), from a fast seeded generator: the import does not care what they are. */
function randomFill(n: number, std: number, mean: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  const scale = (std * Math.sqrt(12)) / 2 ** 32;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = mean + ((s >>> 0) - 2 ** 31) * scale;
  }
  return out;
}

/** Writes the directory; returns its size in bytes. */
export function writeGpt2Directory(dir: string): number {
  const config = {
    architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', ...GPT2_SMALL, n_ctx: 1024, n_inner: null, activation_function: 'gelu_new',
    resid_pdrop: 0.1, embd_pdrop: 0.1, attn_pdrop: 0.1, layer_norm_epsilon: 1e-5, initializer_range: 0.02, bos_token_id: 50256, eos_token_id: 50256,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const utf8 = new TextEncoder();
  const str = (entry: string | readonly number[]) => Array.from(typeof entry === 'string' ? utf8.encode(entry) : entry, (b) => BYTE_TO_CHAR[b]).join('');
  const strings = r50k.map(str);
  const vocab: Record<string, number> = {};
  strings.forEach((s, id) => (vocab[s] = id));
  vocab[GPT2_END_OF_TEXT] = 50256;
  writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
  writeFileSync(join(dir, 'merges.txt'), ['#version: 0.2', ...mergesFromRanks(r50k).map(([a, b]) => `${strings[a]} ${strings[b]}`)].join('\n') + '\n');
  const shape: GPTConfig = { ...DEFAULT_GPT_CONFIG, vocabSize: GPT2_SMALL.vocab_size, blockSize: GPT2_SMALL.n_positions, nEmbd: GPT2_SMALL.n_embd, nLayer: GPT2_SMALL.n_layer, nHead: GPT2_SMALL.n_head };
  const tensors: Record<string, SafetensorsTensor> = {};
  gpt2Tensors(shape).forEach((t, i) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const isGain = /ln_\w+\.weight$/.test(t.name);
    tensors[t.name] = { dtype: 'F32', shape: t.shape, data: randomFill(n, isGain ? 0.05 : 0.02, isGain ? 1 : 0, 0x9e3779b9 + i) };
  });
  writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(tensors, { format: 'pt' }));
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size;
  return n;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

export async function benchGpt2(o: { quick: boolean; threadCounts: readonly number[] }): Promise<Row[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'resnorm-bench-gpt2-'));
  const rows: Row[] = [];
  try {
    const src = join(tmp, 'gpt2');
    const out = join(tmp, 'run');
    mkdirSync(src);
    const srcBytes = writeGpt2Directory(src);
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const { run } = await importGpt2Dir(src, out);
    const importS = (performance.now() - t0) / 1000;
    const rss1 = process.memoryUsage().rss;
    const size = `GPT-2 small (${(run.parameters / 1e6).toFixed(1)}M parameters, vocabulary 50257, block 1024), random F32 weights`;
    rows.push({
      section: 'gpt2', bench: 'import-gpt2', case: `${size}: ${mib(srcBytes)} directory → run of ${mib(dirBytes(out))}`, value: importS, unit: 's', lowerIsBetter: true,
      note: `read, convert (Conv1D transposes), build the model, encode the step-0 checkpoint (weights and zero AdamW moments) and commit it; RSS ${mib(rss0)} → ${mib(rss1)}`,
    });
    const tokens = o.quick ? 16 : 64;
    for (const threads of o.threadCounts) {
      const be = await createWasmBackend({ threads });
      const label = `wasm ${threads} thread${threads > 1 ? 's' : ''}`;
      const t1 = performance.now();
      const ckpt = await loadCheckpoint(await openRun(out), 'latest', { forTraining: false });
      const model = modelOf(ckpt, be);
      const loadS = (performance.now() - t1) / 1000;
      rows.push({ section: 'gpt2', bench: `load imported run, ${label}`, case: size, value: loadS, unit: 's', lowerIsBetter: true, note: 'read the checkpoint and build the model with its weights (what resnorm sample does first)' });
      const prompt = ckpt.tokenizer.encode('The residual stream of a Transformer');
      await generate(model, prompt, { maxNewTokens: 2, temperature: 0 }); // warm-up: kernels, cache buffers
      const times: number[] = [];
      for (let r = 0; r < (o.quick ? 1 : 3); r++) {
        const t2 = performance.now();
        await generate(model, prompt, { maxNewTokens: tokens, temperature: 0 });
        times.push(performance.now() - t2);
      }
      times.sort((a, b) => a - b);
      const ms = times[Math.floor(times.length / 2)];
      rows.push({ section: 'gpt2', bench: `generate gpt2 124M, ${label}`, case: `batch 1, prompt of ${prompt.length} tokens, ${tokens} new tokens, KV cache, greedy`, value: (tokens * 1000) / ms, unit: 'tokens/s' });
      model.store!.release();
      await be.dispose();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}
