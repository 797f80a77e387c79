// `resnorm train --task translate|classify|image` end to end on small files of each format: the run
// directory each writes (run.json kind, config.json version 2, vocab.json), eval/info/translate/
// predict on it, an exact resume, and the bad inputs each task must refuse with one clear line.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageFiles } from '../data/datasets/idx-fixtures.ts';
import { BIN, cli, expectUserError, latestCheckpoint } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'resnorm-tasks-'));
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

// Sentences and their words reversed: a translation a tiny model can start to learn.
const words = ['red', 'blue', 'cat', 'dog', 'sun', 'moon', 'tree', 'sea'];
const pairsTsv = join(tmp, 'pairs.tsv');
const lines: string[] = [];
for (let i = 0; i < 400; i++) {
  const s = [words[i % 8], words[(i * 3 + 1) % 8], words[(i * 5 + 2) % 8]].slice(0, 2 + (i % 2));
  lines.push(`${s.join(' ')} ${i}\t${[...s].reverse().join(' ')} ${i}`);
}
writeFileSync(pairsTsv, lines.join('\n') + '\n');

const labelledTsv = join(tmp, 'labelled.tsv');
writeFileSync(labelledTsv, Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? `pos\tgood fine great day ${i}` : `neg\tbad awful poor day ${i}`)).join('\n') + '\n');

function idxDir(name: string, n: number, side = 28, gzip = false): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const train = imageFiles(n, side, side);
  const test = imageFiles(Math.ceil(n / 4), side, side);
  const w = (f: string, b: Uint8Array) => writeFileSync(join(dir, gzip ? `${f}.gz` : f), gzip ? gzipSync(b) : b);
  w('train-images-idx3-ubyte', train.images);
  w('train-labels-idx1-ubyte', train.labels);
  w('t10k-images-idx3-ubyte', test.images);
  w('t10k-labels-idx1-ubyte', test.labels);
  return dir;
}
const images = idxDir('idx', 240, 28, true);

const TRANSLATE = ['--task', 'translate', '--data', pairsTsv, '--encoder-layers', '1', '--decoder-layers', '1', '--n-embd', '16', '--n-head', '2', '--max-source', '32', '--max-target', '32', '--batch-size', '8', '--eval-iters', '2', '--decode-pairs', '8', '--diag-interval', '3', '--log-interval', '3'];
const CLASSIFY = ['--task', 'classify', '--data', labelledTsv, '--n-layer', '1', '--n-embd', '16', '--n-head', '2', '--max-len', '32', '--tokenizer', 'char', '--batch-size', '8', '--eval-iters', '2', '--diag-interval', '3', '--log-interval', '3'];
const IMAGE = ['--task', 'image', '--data', images, '--model', 'mlp', '--hidden', '16', '--batch-size', '16', '--eval-iters', '2', '--diag-interval', '3', '--log-interval', '3'];

const runs = { translate: join(tmp, 'translate'), classify: join(tmp, 'classify'), image: join(tmp, 'image') };
beforeAll(() => {
  for (const [task, args] of [['translate', TRANSLATE], ['classify', CLASSIFY], ['image', IMAGE]] as const) {
    const r = cli('train', ...args, '--max-iters', '6', '--eval-interval', '3', '--out', runs[task]);
    if (r.code !== 0) throw new Error(`${task}: ${r.err}`);
  }
}, 180_000);

describe('resnorm train --task', () => {
  it('writes each task run with its kind, a version-2 config, its vocabulary and the metrics of each evaluation', () => {
    for (const task of ['translate', 'classify', 'image'] as const) {
      expect(json(join(runs[task], 'run.json')).kind, task).toBe(task);
      const latest = latestCheckpoint(runs[task]);
      expect(latest.step).toBe(6);
      const config = json(join(latest.dir, 'config.json'));
      expect([config.format, config.version, config.task]).toEqual(['resnorm-run', 2, task]);
      expect(json(join(latest.dir, 'vocab.json')).task).toBe(task);
      const evals = readFileSync(join(runs[task], 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; valLoss?: number; metrics?: Record<string, number>; examplesPerSec?: number });
      expect(evals.filter((r) => r.valLoss !== undefined).map((r) => r.step), task).toEqual([3, 6]);
      expect(evals.find((r) => r.metrics)?.metrics, task).toHaveProperty(task === 'translate' ? 'bleu' : 'accuracy');
      expect(evals.some((r) => typeof r.examplesPerSec === 'number'), task).toBe(true);
      // The diagnostics of any task: a probe, per-layer gradient and activation statistics.
      const diag = readFileSync(join(runs[task], 'diagnostics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; layers?: unknown[]; norms?: unknown[] });
      expect(diag.some((r) => r.kind === 'probe'), task).toBe(true);
      const step = diag.find((r) => r.kind === 'step');
      expect(step?.layers?.length, task).toBeGreaterThan(0);
      expect(step?.norms?.length, task).toBeGreaterThan(0);
    }
    expect(readFileSync(join(runs.translate, 'samples.jsonl'), 'utf8')).toMatch(/→/);
  });

  it('scores the held-out split of each task with its metrics', () => {
    const t = cli('eval', runs.translate, '--split', 'test');
    expect(t.code, t.err).toBe(0);
    for (const m of ['exactMatch', 'wordErrorRate', 'characterErrorRate', 'bleu']) expect(t.out).toMatch(new RegExp(`${m}\\s+\\d`));
    expect(cli('eval', runs.translate, '--beam', '2', '--limit', '3').out).toMatch(/3 pairs, beam search \(width 2\)/);
    const c = cli('eval', runs.classify, '--split', 'test');
    expect(c.code, c.err).toBe(0);
    expect(c.out).toMatch(/accuracy\s+\d+\.\d+% of \d+/);
    expect(c.out).toMatch(/macro avg/);
    expect(c.out).toMatch(/micro avg/);
    expect(c.out).toMatch(/confusion matrix/);
    const i = cli('eval', runs.image, '--split', 'test');
    expect(i.code, i.err).toBe(0);
    expect(i.out).toMatch(/accuracy\s+\d+\.\d+% of 60\n/);
    for (const [task, dir] of Object.entries(runs)) expect(cli('info', dir).out, task).toMatch(new RegExp(`task\\s+${task}[\\s\\S]*steps\\s+6 of 6[\\s\\S]*val metrics`));
  });

  it('translates and predicts from arguments and from stdin', () => {
    const a = cli('translate', runs.translate, 'red cat 1', 'sun sea 2');
    expect(a.code, a.err).toBe(0);
    expect(a.out.trim().split('\n').map((l) => l.split('\t')[0])).toEqual(['red cat 1', 'sun sea 2']);
    const stdin = spawnSync(process.execPath, [BIN, 'translate', runs.translate], { input: 'red cat 1\n\nsun sea 2\n', encoding: 'utf8' });
    expect(stdin.stdout).toBe(a.out);
    const p = cli('predict', runs.classify, 'good fine day', 'awful poor day');
    expect(p.code, p.err).toBe(0);
    expect(p.out.trim().split('\n').map((l) => l.split('\t')[0]).every((label) => label === 'pos' || label === 'neg')).toBe(true);
    const im = cli('predict', runs.image, '--images', join(images, 't10k-images-idx3-ubyte.gz'), '--limit', '4');
    expect(im.code, im.err).toBe(0);
    expect(im.out.trim().split('\n')).toHaveLength(4);
    expect(im.out).toMatch(/^0\t\d\t0\.\d{3}$/m);
  });

  it('resumes exactly: 3 steps, then 3 more, equal 6 straight, bit for bit', () => {
    const part = join(tmp, 'image-part');
    expect(cli('train', ...IMAGE, '--max-iters', '3', '--eval-interval', '3', '--lr-decay-iters', '6', '--out', part).code).toBe(0);
    const r = cli('train', '--resume', part, '--max-iters', '6');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/resuming .* at step 3/);
    const weights = (run: string) => readFileSync(join(latestCheckpoint(run).dir, 'model.safetensors'));
    const straight = join(tmp, 'image-straight');
    expect(cli('train', ...IMAGE, '--max-iters', '6', '--eval-interval', '3', '--out', straight).code).toBe(0);
    expect(weights(part).equals(weights(straight))).toBe(true);
  });

  it('refuses bad data with one clear line each', () => {
    const missing = join(tmp, 'missing-column.tsv');
    writeFileSync(missing, 'good day\tpos\nno tab here\n');
    expectUserError(cli('train', ...TRANSLATE, '--data', missing), /missing-column\.tsv, line 2: expected 2 tab-separated columns \(source, target\), found 1/);
    expectUserError(cli('train', ...CLASSIFY, '--data', missing), /missing-column\.tsv, line 2:.*2 tab-separated columns/);
    const unseen = join(tmp, 'unseen-label.tsv');
    writeFileSync(unseen, 'pos\tgood day\nmaybe\tfine day\n');
    expectUserError(cli('eval', runs.classify, '--data', unseen), /unseen-label\.tsv, line 2: label "maybe" is not one of the 2 labels the model was trained on/);
    const small = idxDir('idx-20', 40, 20);
    expectUserError(cli('train', ...IMAGE, '--data', small), /holds 20×20 images, but the model expects 28×28/);
    expectUserError(cli('predict', runs.image, '--images', join(small, 't10k-images-idx3-ubyte')), /holds 20×20 images, but the model takes 28×28/);
    const corrupt = idxDir('idx-corrupt', 40);
    const file = join(corrupt, 'train-images-idx3-ubyte');
    writeFileSync(file, readFileSync(file).subarray(0, 1000));
    expectUserError(cli('train', ...IMAGE, '--data', corrupt), /train-images-idx3-ubyte.*(truncated|bytes)/);
    expectUserError(cli('train', ...IMAGE, '--data', join(tmp, 'nowhere')), /no such directory/);
  });

  it('trains each task on its bundled default data', () => {
    const one = ['--max-iters', '1', '--eval-interval', '1', '--eval-iters', '1', '--diag-interval', '0'];
    const g2p = cli('train', '--task', 'translate', '--encoder-layers', '1', '--decoder-layers', '1', '--n-embd', '16', '--n-head', '2', '--decode-pairs', '4', ...one, '--out', join(tmp, 'g2p'));
    expect(g2p.code, g2p.err).toBe(0);
    expect(g2p.out).toMatch(/data: CMU Pronouncing Dictionary, @stdlib\/datasets-cmudict\n111,365 training \/ 6,205 validation pairs/);
    const spam = cli('train', '--task', 'classify', '--tokenizer', 'char', '--n-layer', '1', '--n-embd', '16', '--n-head', '2', '--max-len', '16', ...one, '--out', join(tmp, 'spam'));
    expect(spam.code, spam.err).toBe(0);
    expect(spam.out).toMatch(/4,656 training \/ 631 validation texts; labels ham \(3251 \/ 426\), spam \(1405 \/ 205\)/);
    // The image default, Fashion-MNIST, is Debian's dataset-fashion-mnist, which .ci/run installs.
    const fashion = cli('train', '--task', 'image', '--model', 'mlp', '--hidden', '16', ...one, '--out', join(tmp, 'fashion'));
    expect(fashion.code, fashion.err).toBe(0);
    expect(fashion.out).toMatch(/data: Fashion-MNIST[^\n]*\n\d{2},\d{3} training \/ \d,\d{3} validation images of 28×28; classes T-shirt\/top, Trouser/);
  });

  it('refuses settings and commands of another task', () => {
    expectUserError(cli('train', ...IMAGE, '--block-size', '8'), /--block-size is not a setting of --task image \(--task lm has it\); its settings: --model/);
    expectUserError(cli('train', ...IMAGE, '--width', '8'), /width is a setting of --model resnet, but the model is mlp/);
    expectUserError(cli('train', '--task', 'speech'), /--task must be one of lm, translate, classify, image, got 'speech'/);
    expectUserError(cli('train', ...TRANSLATE, '--share-embeddings'), /shareEmbeddings needs one vocabulary for both sides: add --vocab bpe --shared-vocab/);
    expectUserError(cli('train', '--resume', runs.image, '--task', 'classify'), /is a run of --task image, not classify; drop --task/);
    expectUserError(cli('sample', runs.translate), /is a translate run; resnorm sample generates from language models — use resnorm translate/);
    expectUserError(cli('translate', runs.classify, 'x'), /is a classify run; resnorm translate needs a run of --task translate/);
    expectUserError(cli('predict', runs.image, 'some text'), /reads its images from --images/);
    expectUserError(cli('translate', runs.translate, 'Ω'), /the symbol 'Ω' is not in the vocabulary of the training data/);
  });
});
