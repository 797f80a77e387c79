// `resnorm import-gpt2` and `resnorm export-gpt2` end to end, as a user runs them: the PyTorch fixture
// becomes a run that info, sample (whose greedy token is PyTorch's argmax), eval, the dashboard and
// train --resume accept; export and re-import give the same checkpoint bytes; and each mistake is one
// line with no stack trace.

import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunTable } from '../../src/dashboard/runs-scan.ts';
import { gpt2TokenizerFromFiles } from '../../src/data/gpt2-vocab.ts';
import { cli, expectUserError, latestCheckpoint } from '../helpers/cli.ts';
import { FIXTURES, get, loadFixture } from '../helpers/fixtures.ts';

const GPT2_DIR = join(FIXTURES, 'gpt2');
const TINY = join(GPT2_DIR, 'tiny');
const tmp = mkdtempSync(join(tmpdir(), 'resnorm-gpt2-cli-'));
const run = join(tmp, 'imported');
const corpus = join(tmp, 'corpus.txt');
const expected = JSON.parse(readFileSync(join(GPT2_DIR, 'expected.json'), 'utf8')) as { texts: { text: string; ids: number[] }[] };

let importOut = '';
beforeAll(() => {
  writeFileSync(corpus, 'the cat sat on the mat. hello world, the hat is on the cat! '.repeat(30));
  const r = cli('import-gpt2', TINY, '--out', run);
  if (r.code !== 0) throw new Error(r.err);
  importOut = r.out;
});

describe('resnorm import-gpt2', () => {
  it('writes a run directory with one checkpoint at step 0, and says what it read', () => {
    expect(importOut).toMatch(/read .*tiny: GPT-2, 2 layers, 3 heads, width 12, block 16, vocabulary 273; weights F32/);
    expect(importOut).toMatch(/tokenizer: byte-level BPE from vocab\.json \+ merges\.txt, 16 merges, special <\|endoftext\|> = 272/);
    expect(importOut).toMatch(/model: pre-LN \(layernorm\), plain residual, GELU tanh approximation, learned positions, head tied to wte, dropout 0\.1; [\d,]+ parameters/);
    expect(importOut).toMatch(/note: attn_pdrop = 0\.1/);
    const latest = latestCheckpoint(run);
    expect(latest.step).toBe(0);
    for (const f of ['config.json', 'tokenizer.json', 'model.safetensors', 'optimizer.safetensors', 'state.json']) expect(existsSync(join(latest.dir, f)), f).toBe(true);
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'))).toMatchObject({ format: 'resnorm-run', kind: 'gpt' });
    expect(existsSync(join(run, 'lock.json')), 'the lock is released').toBe(false);
  });

  it('gives a run that info, sample, eval and the dashboard accept', async () => {
    const info = cli('info', run);
    expect(info.code, info.err).toBe(0);
    expect(info.out).toMatch(/tokenizer\s+bpe, 273 tokens/);
    expect(info.out).toMatch(/steps\s+0 of 2000/);
    // Greedy sampling takes PyTorch's most likely next token.
    const tok = gpt2TokenizerFromFiles(readFileSync(join(TINY, 'vocab.json'), 'utf8'), readFileSync(join(TINY, 'merges.txt'), 'utf8'));
    const { text, ids } = expected.texts[0];
    const logits = get(loadFixture('gpt2', 'expected.safetensors'), 'tiny.logits.0');
    const V = logits.shape[1];
    const last = Array.from(logits.data.subarray((ids.length - 1) * V, ids.length * V));
    const argmax = last.indexOf(Math.max(...last));
    const s = cli('sample', run, '--prompt', text, '--tokens', '1', '--temperature', '0');
    expect(s.code, s.err).toBe(0);
    expect(s.out).toBe(`${text}${tok.decode([argmax])}\n`);
    const e = cli('eval', run, '--data', corpus);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/perplexity\s+\d/);
    const table = new RunTable([run], () => {});
    await table.scan();
    expect(table.infos()).toHaveLength(1);
    expect(table.infos()[0].config).toMatchObject({ model: { nEmbd: 12, nLayer: 2, activation: 'gelu-tanh' } });
  });

  it('fine-tunes from it with train --resume', () => {
    const copy = join(tmp, 'finetune');
    cpSync(run, copy, { recursive: true });
    const r = cli('train', '--resume', copy, '--data', corpus, '--max-iters', '3', '--eval-interval', '3', '--eval-iters', '1', '--sample-length', '4');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/resuming .* at step 0/);
    expect(latestCheckpoint(copy).step).toBe(3);
  });
});

describe('resnorm export-gpt2', () => {
  it('writes a GPT-2 directory that imports back into the same checkpoint, byte for byte', () => {
    const out = join(tmp, 'exported');
    const r = cli('export-gpt2', run, out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/wrote .*exported: GPT-2, 2 layers, 3 heads, width 12, block 16, vocabulary 273, tied head; weights F32, from the checkpoint of step 0/);
    for (const f of ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt']) expect(existsSync(join(out, f)), f).toBe(true);
    const again = join(tmp, 're-imported');
    const i = cli('import-gpt2', out, '--out', again);
    expect(i.code, i.err).toBe(0);
    for (const f of ['model.safetensors', 'tokenizer.json', 'config.json', 'state.json', 'optimizer.safetensors']) {
      expect(readFileSync(join(latestCheckpoint(again).dir, f)), f).toEqual(readFileSync(join(latestCheckpoint(run).dir, f)));
    }
    const half = join(tmp, 'exported-bf16');
    expect(cli('export-gpt2', run, half, '--dtype', 'bf16').code).toBe(0);
    expect(readFileSync(join(half, 'model.safetensors')).length).toBeLessThan(readFileSync(join(out, 'model.safetensors')).length * 0.6);
  });

  it("refuses a run GPT-2 cannot hold, naming each field", () => {
    const text = join(tmp, 'chars.txt');
    writeFileSync(text, 'It was the best of times, it was the worst of times. '.repeat(40));
    const charRun = join(tmp, 'post-ln');
    const t = cli('train', '--data', text, '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--batch-size', '4', '--eval-iters', '1', '--sample-length', '0', '--max-iters', '2', '--placement', 'post', '--out', charRun);
    expect(t.code, t.err).toBe(0);
    const r = cli('export-gpt2', charRun, join(tmp, 'never'));
    expectUserError(r, /^resnorm: .*post-ln\/checkpoints\/step-00000002 cannot be written as GPT-2, which cannot hold:\n {2}- placement = 'post' \(Post-LN.*\n {2}- activation = 'gelu' \(the exact, erf GELU\).*\n {2}- tokenizer = 'char' .*\nGPT-2's design is pre-LN LayerNorm/m);
    expect(existsSync(join(tmp, 'never')), 'nothing is written').toBe(false);
  });
});

describe('the GPT-2 commands refuse mistakes with one line', () => {
  it('in what they are given', () => {
    expectUserError(cli('import-gpt2', join(tmp, 'nowhere'), '--out', join(tmp, 'x1')), /nowhere: no such directory; pass a GPT-2 model directory/);
    expectUserError(cli('import-gpt2', join(TINY, 'config.json'), '--out', join(tmp, 'x2')), /config\.json is a file; pass the GPT-2 model directory that holds it/);
    expectUserError(cli('import-gpt2', TINY, '--out', run), /already holds a run; pass --resume .* to continue it, or another --out/);
    expectUserError(cli('import-gpt2', TINY, '--out', join(tmp, 'x3'), '--dropout', '2'), /--dropout must be a probability in \[0, 1\), got '2'/);
    const broken = join(tmp, 'broken');
    mkdirSync(broken);
    for (const f of ['config.json', 'model.safetensors', 'vocab.json']) cpSync(join(TINY, f), join(broken, f));
    expectUserError(cli('import-gpt2', broken, '--out', join(tmp, 'x4')), /broken has vocab\.json without merges\.txt; a GPT-2 model directory holds/);
    cpSync(join(TINY, 'merges.txt'), join(broken, 'merges.txt'));
    const config = JSON.parse(readFileSync(join(TINY, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(broken, 'config.json'), JSON.stringify({ ...config, n_embd: 24 }));
    expectUserError(cli('import-gpt2', broken, '--out', join(tmp, 'x5')), /broken\/model\.safetensors: 'wte\.weight' has shape \[273, 12\], but config\.json makes it \[273, 24\] \(vocab_size, n_embd\)/);
    rmSync(join(broken, 'model.safetensors'));
    writeFileSync(join(broken, 'config.json'), JSON.stringify(config));
    writeFileSync(join(broken, 'pytorch_model.bin'), 'not read');
    expectUserError(cli('import-gpt2', broken, '--out', join(tmp, 'x6')), /broken has no model\.safetensors; it has pytorch_model\.bin, which resnorm does not read/);
    writeFileSync(join(broken, 'config.json'), JSON.stringify({ ...config, n_embd: 2048, n_head: 16, n_layer: 24 }));
    expectUserError(cli('import-gpt2', broken, '--out', join(tmp, 'x9')), /broken\/config\.json describes a GPT-2 of 1,2[\d,]+ parameters; a resnorm run holds at most 134,217,728/);
    for (const x of ['x1', 'x2', 'x4', 'x5', 'x6', 'x9']) expect(existsSync(join(tmp, x, 'checkpoints', 'index.json')), x).toBe(false);
  });

  it('in where they would write', () => {
    const full = join(tmp, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'notes.txt'), 'mine');
    expectUserError(cli('export-gpt2', run, full), /full is not empty \(it holds notes\.txt\); pass a new or empty directory/);
    expectUserError(cli('export-gpt2', run, join(tmp, 'x7'), '--dtype', 'f8'), /--dtype must be one of f32, f16, bf16, got 'f8'/);
    expectUserError(cli('export-gpt2', join(tmp, 'nowhere'), join(tmp, 'x8')), /run directory .*nowhere does not exist/);
  });
});
