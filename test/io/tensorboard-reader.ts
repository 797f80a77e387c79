// The independent reader of TensorBoard event files for the tests: Debian's /usr/bin/python3 with
// Google's protobuf runtime, TensorBoard's schema (proto/tensorboard/) compiled by protoc at test time,
// and a CRC-32C of its own (test/io/tensorboard_read.py), plus the checks the tests share.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const PYTHON = '/usr/bin/python3'; // Debian's: python3 on PATH may be another one, without python3-protobuf
let pbDir = '';

/** Compiles the schema into `tmp`/pb before the file's tests; fails them, saying what to install, without the tools. */
export function setUpReader(tmp: string): void {
  beforeAll(() => {
    // Not a skip: CI installs both (.ci/run), and a missing reader must fail loudly.
    const missing: string[] = [];
    if (spawnSync('protoc', ['--version']).status !== 0) missing.push('protoc');
    if (spawnSync(PYTHON, ['-c', 'import google.protobuf']).status !== 0) missing.push(`the protobuf module of ${PYTHON}`);
    if (missing.length > 0) {
      throw new Error(`the TensorBoard tests decode event files with ${missing.join(' and ')}, which is missing: apt-get install python3-protobuf protobuf-compiler`);
    }
    pbDir = join(tmp, 'pb');
    mkdirSync(pbDir);
    const protos = readdirSync(join(ROOT, 'proto', 'tensorboard')).map((f) => join(ROOT, 'proto', 'tensorboard', f));
    const r = spawnSync('protoc', ['-I', join(ROOT, 'proto'), `--python_out=${pbDir}`, ...protos], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`protoc failed: ${r.stderr}`);
    // A regular package, so that no installed `tensorboard` package can shadow the generated modules.
    writeFileSync(join(pbDir, 'tensorboard', '__init__.py'), '');
  });
}

export interface DecodedHisto {
  min: number;
  max: number;
  num: number;
  sum: number;
  sum_squares: number;
  bucket_limit: number[];
  bucket: number[];
}
export interface DecodedValue {
  tag: string;
  kind: 'simple_value' | 'histo' | null;
  simple_value?: number;
  histo?: DecodedHisto;
}
export interface DecodedEvent {
  wall_time: number;
  step: number;
  what: 'file_version' | 'summary' | null;
  file_version?: string;
  values?: DecodedValue[];
}
export interface DecodedRecord {
  offset: number;
  length: number;
  lengthCrcOk: boolean;
  dataCrcOk?: boolean;
  reserializedEqual?: boolean;
  error?: string;
  event?: DecodedEvent;
}
export interface Decoded {
  crcCheck: number;
  size: number;
  consumed: number;
  records: DecodedRecord[];
}

export function decode(file: string): Decoded {
  const r = spawnSync(PYTHON, [join(import.meta.dirname, 'tensorboard_read.py'), pbDir, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tensorboard_read.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Decoded;
}

/** The events of a file that must be whole: both CRCs of every record, every byte parsed, the version first. */
export function decodeClean(file: string): DecodedEvent[] {
  const d = decode(file);
  expect(d.crcCheck, "the reader's own CRC-32C").toBe(0xe3069283);
  expect(d.consumed, 'every byte framed').toBe(d.size);
  for (const r of d.records) {
    expect(r, `record at byte ${r.offset}`).toMatchObject({ lengthCrcOk: true, dataCrcOk: true, reserializedEqual: true });
    expect(r.error).toBeUndefined();
  }
  const events = d.records.map((r) => r.event!);
  expect(events[0]).toMatchObject({ what: 'file_version', file_version: 'brain.Event:2', step: 0 });
  expect(events.slice(1).every((e) => e.what === 'summary'), 'one file_version, then summaries').toBe(true);
  return events.slice(1);
}

/** The scalars of an event as tag → value. */
export function scalarsOf(e: DecodedEvent): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of e.values!) {
    if (v.kind !== 'simple_value') continue;
    expect(out[v.tag], `tag ${v.tag} twice in one event`).toBeUndefined();
    out[v.tag] = v.simple_value!;
  }
  return out;
}

/** simple_value is a float: what TensorBoard gets is the value rounded to float32. */
export const f32 = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.fround(v)]));

/** A histogram of `values` as TensorBoard reads it: its statistics, and each value in its bucket [limit[i-1], limit[i]). */
export function expectHistogramOf(h: DecodedHisto, values: number[]): void {
  expect(h.num).toBe(values.length);
  expect(h.min).toBe(Math.min(...values));
  expect(h.max).toBe(Math.max(...values));
  expect(h.sum).toBeCloseTo(values.reduce((a, b) => a + b, 0), 12);
  expect(h.sum_squares).toBeCloseTo(values.reduce((a, b) => a + b * b, 0), 12);
  expect(h.bucket.length).toBe(h.bucket_limit.length);
  expect(h.bucket_limit.at(-1)).toBe(h.max);
  for (let i = 1; i < h.bucket_limit.length; i++) expect(h.bucket_limit[i]).toBeGreaterThan(h.bucket_limit[i - 1]);
  const counts = h.bucket.map(() => 0);
  for (const v of values) {
    const i = h.bucket_limit.findIndex((limit, j) => v < limit || j === h.bucket_limit.length - 1);
    counts[i]++;
  }
  expect(h.bucket).toEqual(counts);
}
