// TensorBoard event files (src/io/tensorboard/, src/cli/tensorboard-writer.ts): CRC-32C and TFRecord
// framing, the live writer on record literals, damage, and wall time across resumes, every file read
// back by the independent reader (test/io/tensorboard-reader.ts). The export command: tensorboard-export.test.ts.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TensorBoardWriter } from '../../src/cli/tensorboard-writer.ts';
import { crc32c, maskedCrc32c } from '../../src/io/tensorboard/crc32c.ts';
import { histogramOf } from '../../src/io/tensorboard/event.ts';
import { runEvents } from '../../src/io/tensorboard/run-summaries.ts';
import { tfRecord } from '../../src/io/tensorboard/tfrecord.ts';
import { decode, decodeClean, expectHistogramOf, f32, scalarsOf, setUpReader } from './tensorboard-reader.ts';

const tmp = mkdtempSync(join(tmpdir(), 'resnorm-tensorboard-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
setUpReader(tmp);

// The examples of docs/run-directory.md, with a null where a value was not finite.
const STEP = { step: 10, trainLoss: 3.91, lr: 0.0001, gradNorm: 1.52, tokensPerSec: 15234, wallTime: 0.61 };
const NAN_STEP = { step: 20, trainLoss: 3.5, lr: 0.0002, gradNorm: null, tokensPerSec: 15000, wallTime: 1.2 };
const EVAL = { step: 250, trainLoss: 2.41, valLoss: 2.47, wallTime: 14.2 };
const PROBE = { kind: 'probe', step: 0, sequences: 4, length: 64, source: 'validation split', seed: 1340 };
const DIAG = {
  kind: 'step',
  step: 25,
  wallTime: 1.7,
  loss: 3.2,
  gradNorm: 1.1,
  params: [
    { name: 'wte.weight', gradNorm: 0.41, norm: 12.3, updateRatio: 0.0011 },
    { name: 'h.0.attn.c_attn.weight', gradNorm: 0.2, norm: 3, updateRatio: 0.002 },
    { name: 'h.0.ln_1.bias', gradNorm: null, norm: 0.1, updateRatio: 0.3 },
    { name: 'h.0.ln_1.weight', gradNorm: 0.05, norm: 5.6, updateRatio: 0.0001 },
  ],
  layers: [
    { name: 'wte', gradNorm: 0.41, norm: 12.3, updateRatio: 0.0011 },
    { name: 'h.0', gradNorm: 0.3, norm: 5, updateRatio: null },
  ],
  blocks: [{ name: 'h.0', rmsIn: 0.81, rmsOut: 0.93 }],
  sublayers: [{ name: 'h.0.attn', block: 'h.0', rmsIn: 0.81, rmsUpdate: 0.12, ratio: 0.148 }],
  norms: [
    { name: 'h.0.ln_1', inMean: 0.001, inStd: 0.81, outRms: 1.0, gainMean: 1.0, gainMin: 0.97, gainMax: 1.03 },
    { name: 'h.0.rms', inMean: 0, inStd: 0.5, outRms: 0.99, gainMean: null, gainMin: null, gainMax: null },
  ],
  attention: [{ name: 'h.0.attn', entropy: [2.9, 3.1, 2.7, 3.0] }],
};
const ATTENTION = { kind: 'attention', step: 250, tokens: ['a'], maps: [{ name: 'h.0.attn', heads: [[[1]]] }] };
const SPIKE = { kind: 'spike', step: 731, metric: 'loss', value: 4.8, baseline: 2.1, threshold: 2.9 };

const DIAG_SCALARS = {
  'grad_norm/wte': 0.41,
  'grad_norm/h.0': 0.3,
  'update_ratio/wte': 0.0011,
  'weight_norm/wte': 12.3,
  'weight_norm/h.0': 5,
  'residual_rms/h.0/in': 0.81,
  'residual_rms/h.0/out': 0.93,
  'sublayer_ratio/h.0.attn': 0.148,
  'norm/h.0.ln_1/in_std': 0.81,
  'norm/h.0.ln_1/out_rms': 1,
  'norm/h.0.ln_1/gain_mean': 1,
  'norm/h.0.rms/in_std': 0.5,
  'norm/h.0.rms/out_rms': 0.99,
  'attention_entropy/h.0.attn/head0': 2.9,
  'attention_entropy/h.0.attn/head1': 3.1,
  'attention_entropy/h.0.attn/head2': 2.7,
  'attention_entropy/h.0.attn/head3': 3.0,
};

describe('CRC-32C and TFRecord framing', () => {
  it('computes the standard check values (RFC 3720 B.4)', () => {
    const enc = new TextEncoder();
    expect(crc32c(enc.encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
  });

  it('frames a record as length, masked CRC of the length, data, masked CRC of the data', () => {
    const data = new TextEncoder().encode('hello');
    const r = tfRecord(data);
    const view = new DataView(r.buffer);
    expect(r.length).toBe(5 + 16);
    expect(view.getBigUint64(0, true)).toBe(5n);
    expect(view.getUint32(8, true)).toBe(maskedCrc32c(r.subarray(0, 8)));
    expect(r.subarray(12, 17)).toEqual(data);
    expect(view.getUint32(17, true)).toBe(maskedCrc32c(data));
    // The mask, spelled out: rotate right 15, add 0xa282ead8.
    const crc = crc32c(data);
    expect(maskedCrc32c(data)).toBe(((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) % 2 ** 32);
  });
});

describe('histograms', () => {
  it('puts every value in its bucket, with the min and max as outer edges', () => {
    const values = [0.41, 0.2, 0.05, 1e-6, 3.7, 0.2, 0.9];
    const h = histogramOf(values)!;
    expectHistogramOf({ ...h, sum_squares: h.sumSquares, bucket_limit: h.bucketLimit }, values);
    expect(h.bucket.length).toBe(30);
    expect(histogramOf([2, 2, 2])).toEqual({ min: 2, max: 2, num: 3, sum: 6, sumSquares: 12, bucketLimit: [2], bucket: [3] });
    expect(histogramOf([])).toBeNull();
  });
});

describe('TensorBoardWriter (train --tensorboard)', () => {
  it('writes the records of a run as events the reader decodes, value for value', () => {
    const dir = join(tmp, 'live');
    const start = 1_700_000_000.25;
    const w = TensorBoardWriter.open(dir, { startTime: start });
    expect(w.path.slice(dir.length + 1)).toMatch(new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${hostname().replace(/\W/g, '\\$&')}\\.${process.pid}\\.\\d+$`));
    for (const r of [STEP, NAN_STEP]) w.metrics(r);
    for (const r of [PROBE, DIAG, ATTENTION]) w.diagnostics(r);
    w.metrics(EVAL);
    const before = Date.now() / 1000;
    w.diagnostics(SPIKE);
    const after = Date.now() / 1000;
    w.close();
    w.close(); // idempotent

    const events = decodeClean(w.path);
    expect(decode(w.path).records[0].event!.wall_time).toBe(start);
    expect(events.map((e) => [e.step, e.wall_time])).toEqual([
      [10, start + 0.61],
      [20, start + 1.2],
      [25, start + 1.7],
      [250, start + 14.2],
      [731, events[4].wall_time],
    ]);
    expect(events[4].wall_time).toBeGreaterThanOrEqual(before - 1e-6);
    expect(events[4].wall_time).toBeLessThanOrEqual(after + 1e-6);
    expect(scalarsOf(events[0])).toEqual(f32({ 'loss/train': 3.91, lr: 0.0001, grad_norm: 1.52, tokens_per_sec: 15234 }));
    expect(scalarsOf(events[1]), 'a null gradient norm is no point').toEqual(f32({ 'loss/train': 3.5, lr: 0.0002, tokens_per_sec: 15000 }));
    expect(scalarsOf(events[2])).toEqual(f32(DIAG_SCALARS));
    const histos = events[2].values!.filter((v) => v.kind === 'histo');
    expect(histos.map((v) => v.tag)).toEqual(['grad_norms']);
    expectHistogramOf(histos[0].histo!, [0.41, 0.2, 0.05]);
    expect(scalarsOf(events[3])).toEqual(f32({ 'loss/val': 2.47, 'loss/train_eval': 2.41 }));
    expect(scalarsOf(events[4])).toEqual(f32({ 'spike/loss': 4.8 }));
    expect(() => w.metrics(STEP)).toThrow(/is closed/);
  });

  it('gives each writer a file of its own, in an existing directory too', () => {
    const dir = join(tmp, 'two');
    const a = TensorBoardWriter.open(dir);
    const b = TensorBoardWriter.open(dir);
    a.close();
    b.close();
    expect(a.path).not.toBe(b.path);
    expect(readdirSync(dir).length).toBe(2);
    for (const f of [a.path, b.path]) expect(decodeClean(f)).toEqual([]);
  });
});

describe('the independent reader detects damage', () => {
  const file = join(tmp, 'damage', 'events');
  beforeAll(() => {
    const w = TensorBoardWriter.open(join(tmp, 'damage'), { startTime: 1_700_000_000 });
    w.metrics(STEP);
    w.metrics(EVAL);
    w.close();
    cpSync(w.path, file);
  });
  const damaged = (edit: (b: Uint8Array, second: number) => Uint8Array) => {
    const bytes = new Uint8Array(readFileSync(file));
    const second = decode(file).records[1].offset; // the first summary record
    const out = join(tmp, 'damage', `edited-${Math.random()}`);
    writeFileSync(out, edit(bytes, second));
    return decode(out);
  };

  it('a changed byte of the data fails that record’s data CRC, and only it', () => {
    const d = damaged((b, at) => ((b[at + 12 + 3] ^= 0x01), b));
    expect(d.records.map((r) => r.dataCrcOk)).toEqual([true, false, true]);
    expect(d.records.every((r) => r.lengthCrcOk)).toBe(true);
  });

  it('a changed byte of a length fails the length CRC, and reading stops there', () => {
    const d = damaged((b, at) => ((b[at] ^= 0x01), b));
    expect(d.records.map((r) => r.lengthCrcOk)).toEqual([true, false]);
    expect(d.consumed).toBe(d.records[1].offset);
  });

  it('a record cut short (a killed writer) is left unread', () => {
    const d = damaged((b) => b.subarray(0, b.length - 3));
    expect(d.records.length).toBe(3);
    expect(d.records[2].dataCrcOk).toBeUndefined();
    expect(d.consumed).toBeLessThan(d.size);
  });
});

describe('run events: wall time across resumes', () => {
  it('lays processes back to back, ending at the log’s last write; diagnostics share the metrics’ starts', () => {
    const metrics = [
      { step: 5, trainLoss: 4, lr: 1e-4, gradNorm: 2, tokensPerSec: 100, wallTime: 1 },
      { step: 10, trainLoss: 3.9, valLoss: 3.95, wallTime: 3 },
      // resumed from the checkpoint of step 10: wallTime starts again
      { step: 15, trainLoss: 3.8, lr: 1e-4, gradNorm: 1.9, tokensPerSec: 100, wallTime: 0.5 },
      { step: 20, trainLoss: 3.7, lr: 1e-4, gradNorm: 1.8, tokensPerSec: 100, wallTime: 2 },
    ];
    const diagnostics = [PROBE, { ...DIAG, step: 10, wallTime: 2.5 }, PROBE, { ...SPIKE, step: 12 }, { ...DIAG, step: 20, wallTime: 1.9 }];
    const end = 1_800_000_000;
    const events = runEvents({ metrics, diagnostics, metricsEnd: end, diagnosticsEnd: end + 50 });
    const s1 = end - 2;
    const s0 = s1 - 3;
    expect(events.map((e) => [e.step, e.wallTime])).toEqual([
      [5, s0 + 1],
      [10, s0 + 2.5],
      [10, s0 + 3],
      [12, s1 + 0], // a spike has no wallTime: the latest before it in its process
      [15, s1 + 0.5],
      [20, s1 + 1.9],
      [20, s1 + 2],
    ]);
  });
});
