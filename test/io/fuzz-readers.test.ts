// Seeded fuzz test of a real checkpoint's readers: 1,200 mutated safetensors files and 1,300 mutated
// config.json, state.json and tokenizer.json files (char and BPE). Each must decode or be refused with
// the reader's own error type; anything else is a reader bug. A failure names the seed, the case and
// the mutation, and each case draws from its own generator, so it reproduces alone.

import { describe, expect, it } from 'vitest';
import { trainBpe } from '../../src/data/bpe-tokenizer.ts';
import { CharTokenizer } from '../../src/data/char-tokenizer.ts';
import { splitTrainVal } from '../../src/data/corpus.ts';
import { TokenizerError, tokenizerFromJSON } from '../../src/data/tokenizer.ts';
import { SafetensorsError, decodeSafetensors, MAX_HEADER_BYTES } from '../../src/io/safetensors.ts';
import { GPT, type GPTConfig } from '../../src/models/gpt.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { CheckpointError, decodeWeights, encodeCheckpoint, parseRunConfig, parseState, parseTokenizer, restoreTrainer } from '../../src/train/checkpoint.ts';
import { MAX_CHECKPOINT_PARAMETERS } from '../../src/train/checkpoint-readers.ts';
import { modelConfigOf, parseTrainConfig } from '../../src/train/config.ts';
import { Trainer } from '../../src/train/trainer.ts';

const SEED = 0x5eed2024;

// A real checkpoint: a tiny model trained for two steps.
const text = 'The whale, the sea; and the ship: "Call me Ishmael!" said he, 42 times. ';
const corpus = text.repeat(20);
const charTok = CharTokenizer.fromText(corpus);
const bpeTok = trainBpe(corpus, 320);
const trainConfig = parseTrainConfig({ blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, batchSize: 2, maxIters: 10, warmupIters: 1, evalInterval: 100, evalIters: 1, seed: 3 });
const data = splitTrainVal(Int32Array.from(charTok.encode(corpus)));
const trainer = new Trainer(GPT.create(modelConfigOf(trainConfig, charTok.vocabSize), { seed: 3 }), trainConfig, data);
await trainer.run(2);
const files = await encodeCheckpoint(trainer, charTok);
const original = {
  model: files['model.safetensors'] as Uint8Array,
  optimizer: files['optimizer.safetensors'] as Uint8Array,
  state: files['state.json'] as string,
};
/** What restoreTrainer writes into: the same model, so only the mutation can make a restore fail. */
const target = new Trainer(GPT.create(modelConfigOf(trainConfig, charTok.vocabSize), { seed: 3 }), trainConfig, data);

// ---- the property ----

type ErrorClass = new (...args: never[]) => Error;
const failures: string[] = [];
const tally = { decoded: 0, refused: 0 };

/** Runs one reader call: returning or throwing `own` is fine, anything else is recorded as a bug. */
function attempt<T>(label: string, own: ErrorClass, read: () => T): T | undefined {
  try {
    const v = read();
    tally.decoded++;
    return v;
  } catch (e) {
    if (e instanceof own) tally.refused++;
    else failures.push(`${label}: expected a ${own.name} but got ${e instanceof Error ? `${e.constructor.name}: ${e.message.slice(0, 300)}` : String(e)}`);
    return undefined;
  }
}

/** Asserts a block of cases found no bug, then resets the record for the next block. */
function expectNoBugs(kind: string): void {
  const found = failures.splice(0);
  const { decoded, refused } = tally;
  tally.decoded = tally.refused = 0;
  expect(found.slice(0, 15).map((f) => (f.length > 400 ? f.slice(0, 400) + '…' : f)), `${found.length} bugs in ${kind}`).toEqual([]);
  // A fuzzer whose inputs all fail (or all pass) the first check tests nothing deeper.
  expect(decoded, `${kind}: no mutated input decoded`).toBeGreaterThan(0);
  expect(refused, `${kind}: no mutated input was refused`).toBeGreaterThan(0);
}

/** Case `i` of block `block` has its own generator, so a failure reproduces without the cases before it. */
function caseRng(block: number, i: number): Rng {
  return new Rng((SEED ^ (block << 20)) + i);
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

// ---- JSON mutations ----

/** Emitted verbatim by `serialize`: what JSON.stringify cannot write (1e400, -0, a 20,000-deep nest). */
class Raw {
  constructor(readonly text: string) {}
}

const DEEP = '['.repeat(20000) + ']'.repeat(20000);
/** BPE merges whose tokens double in length at each merge (2^40 bytes), or grow by one byte (~2^31 bytes in all). */
const DOUBLING = `[[0,0],${Array.from({ length: 39 }, (_, k) => `[${256 + k},${256 + k}]`).join(',')}]`;
const GROWING = `[[0,0],${Array.from({ length: 65000 }, (_, k) => `[${256 + k},0]`).join(',')}]`;
const WEIRD: readonly unknown[] = [
  null, true, false, 0, -1, 0.5, -0.5, 1e9, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 64, 1e300, -1e300,
  new Raw('1e400'), new Raw('-1e400'), new Raw('-0'), new Raw(DEEP), new Raw(DOUBLING), new Raw(GROWING), '', 'x', 'NaN', 'Infinity', '1e400', 'x'.repeat(100000),
  [], {}, [1, 2], [0, 0, 0, 0], [2 ** 32, 1, 1, 1], [-1, 1, 1, 1], [1.5, 1, 1, 1], [1, 2, 3], { a: 1 }, [[0, 0]],
];
const EXTRA_KEYS = ['extra', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'kind', 'step', 'm'];

function serialize(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${v.map(serialize).join(',')}]`;
  if (typeof v === 'object' && v !== null) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${serialize(x)}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** Sets an own, enumerable property, even `__proto__` (which a plain assignment would treat as the prototype). */
function setOwn(o: object, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

interface Slot {
  parent: Record<string, unknown> | unknown[];
  key: string | number;
  /** Where it is, for the failure message: `.train.nEmbd`, `.merges[3][0]`. */
  path: string;
}

function slotsOf(holder: unknown[]): Slot[] {
  const out: Slot[] = [];
  const walk = (parent: Slot['parent'], key: string | number, path: string): void => {
    out.push({ parent, key, path });
    const v = (parent as Record<string, unknown>)[key];
    if (v instanceof Raw || typeof v !== 'object' || v === null) return;
    if (Array.isArray(v)) v.forEach((_, i) => walk(v, i, `${path}[${i}]`));
    else for (const k of Object.keys(v)) walk(v as Record<string, unknown>, k, `${path}.${k}`);
  };
  walk(holder, 0, '');
  return out;
}

/** One structural change at a random place in a parsed JSON value; returns what it did. */
function mutateJSON(rng: Rng, holder: unknown[]): string {
  const slots = slotsOf(holder);
  const { parent, key, path } = pick(rng, slots);
  const get = (): unknown => (parent as Record<string, unknown>)[key];
  const set = (v: unknown): void => setOwn(parent, String(key), v);
  const v = get();
  const where = `at ${path || 'the root'}`;
  switch (rng.int(7)) {
    case 0:
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
      if (parent === holder) holder.push(new Raw(''));
      return `delete ${where}`;
    case 1: {
      const w = pick(rng, WEIRD);
      set(w instanceof Raw ? w : structuredClone(w));
      return `replace ${where} with ${w instanceof Raw ? w.text.slice(0, 12) : serialize(w).slice(0, 20)}`;
    }
    case 2: // change the type, keeping the content where possible
      if (typeof v === 'number') set(String(v));
      else if (typeof v === 'string') set(Number(v) || v.length);
      else if (typeof v === 'boolean') set(v ? 1 : 'false');
      else if (Array.isArray(v)) set(Object.fromEntries(v.map((x, i) => [String(i), x])));
      else if (v !== null && typeof v === 'object') set(Object.values(v));
      else set({});
      return `retype ${where}`;
    case 3: {
      const n = typeof v === 'number' ? v : rng.int(100);
      const tweaks = [n + 0.5, -n, n * 1e9, n + 1, n - 1, 0, new Raw('-0'), new Raw('1e400'), n * 2 ** 40];
      set(pick(rng, tweaks));
      return `renumber ${where}`;
    }
    case 4:
      set(rng.int(2) ? [v] : { v });
      return `nest ${where}`;
    case 5:
      if (Array.isArray(v) && v.length > 0) {
        const op = rng.int(4);
        if (op === 0) v.splice(rng.int(v.length), 1);
        else if (op === 1) v.push(structuredClone(v[rng.int(v.length)]));
        else if (op === 2) v.reverse();
        else v.length = 0;
        return `reshape array ${where}`;
      }
      set(new Raw(`[${new Array(1000).fill(serialize(v instanceof Raw ? 0 : v)).join(',')}]`));
      return `repeat ${where} 1000 times`;
    default: {
      const target = v !== null && typeof v === 'object' && !(v instanceof Raw) && !Array.isArray(v) ? v : holder[0];
      if (target === null || typeof target !== 'object' || Array.isArray(target) || target instanceof Raw) return mutateJSON(rng, holder);
      const k = pick(rng, EXTRA_KEYS);
      setOwn(target, k, k === '__proto__' ? structuredClone(target) : pick(rng, WEIRD));
      return `add key '${k}' ${where}`;
    }
  }
}

/** Raw-text damage: a truncation, flipped bytes (read back as the CLI reads files), or a stray character. */
function mutateText(rng: Rng, s: string): [string, string] {
  const bytes = new TextEncoder().encode(s);
  switch (rng.int(3)) {
    case 0: {
      const n = rng.int(bytes.length);
      return [new TextDecoder().decode(bytes.subarray(0, n)), `truncate to ${n} bytes`];
    }
    case 1: {
      const flips = 1 + rng.int(4);
      for (let f = 0; f < flips; f++) bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
      return [new TextDecoder().decode(bytes), `flip ${flips} bits`];
    }
    default: {
      const at = rng.int(s.length);
      return [s.slice(0, at) + pick(rng, ['{', '}', '[', ']', ',', ':', '"', '\\', '-', 'e', '.', '\u0000', '\ud800']) + s.slice(at + 1), `overwrite char ${at}`];
    }
  }
}

/** Sets one field of a file to a value from a list aimed at that file's own checks; returns what it did. */
type Targeted = (rng: Rng, root: Record<string, unknown>) => string;

/**
 * A mutated copy of a JSON file's text: one in four raw, one in eight `targeted`, the rest random
 * structural changes (sometimes two).
 */
function mutateFile(rng: Rng, textIn: string, targeted: Targeted): [string, string] {
  if (rng.int(4) === 0) return mutateText(rng, textIn);
  const holder: unknown[] = [JSON.parse(textIn)];
  if (rng.int(8) === 0) {
    const what = targeted(rng, holder[0] as Record<string, unknown>);
    return [serialize(holder[0]), what];
  }
  const what = [mutateJSON(rng, holder)];
  if (rng.int(4) === 0) what.push(mutateJSON(rng, holder));
  return [holder.map(serialize).join(''), what.join(', ')];
}

/** A model field changed in both halves of config.json, so only the size limits can refuse it. */
const hugeModel: Targeted = (rng, root) => {
  const [field, value] = pick(rng, [['nEmbd', 2 ** 20], ['nEmbd', 1e9], ['nLayer', 1e6], ['nLayer', 4096], ['blockSize', 2 ** 30], ['nHead', 8]] as const);
  (root.train as Record<string, unknown>)[field] = value;
  (root.model as Record<string, unknown>)[field] = value;
  if (rng.int(2)) (root.model as Record<string, unknown>).vocabSize = pick(rng, [2 ** 21, 2 ** 21 + 1, 1, 1e6]);
  return `train.${field} = model.${field} = ${value}, vocabSize ${String((root.model as Record<string, unknown>).vocabSize)}`;
};

const badGenerator: Targeted = (rng, root) => {
  const field = pick(rng, ['dataRng', 'dropoutRng', 'step']);
  root[field] = field === 'step' ? pick(rng, [-1, 2 ** 53, 1.5, 2]) : pick(rng, [[0, 0, 0, 0], [0, 0, 0, 1], [2 ** 32 - 1, 0, 0, 0]]);
  return `${field} = ${serialize(root[field])}`;
};

const badChars: Targeted = (rng, root) => {
  const chars = root.chars as string[];
  root.chars = pick(rng, [[...chars].reverse(), [chars[0], ...chars], ['ab'], ['\ud800'], ['\ud83d\ude00'], [], [...chars, 1], Array.from({ length: 100000 }, (_, i) => String.fromCodePoint(0x4e00 + i))]);
  return `chars of ${(root.chars as unknown[]).length} entries`;
};

const badMerges: Targeted = (rng, root) => {
  const [name, merges] = pick(rng, [['doubling', DOUBLING], ['growing', GROWING], ['repeated', '[[0,0],[0,0]]'], ['forward', '[[0,256]]'], ['dangling', '[[0,0],[256,999]]']]);
  root.merges = new Raw(merges);
  return `${name} merges`;
};

// ---- safetensors mutations ----

function splitFile(bytes: Uint8Array): { header: string; body: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: new TextDecoder().decode(bytes.subarray(8, 8 + n)), body: bytes.subarray(8 + n) };
}

function assemble(header: string, body: Uint8Array, pad: boolean): Uint8Array {
  const h = new TextEncoder().encode(header);
  const len = pad ? Math.ceil(h.length / 8) * 8 : h.length;
  const out = new Uint8Array(8 + len + body.length).fill(0x20, 8, 8 + len);
  new DataView(out.buffer).setBigUint64(0, BigInt(len), true);
  out.set(h, 8);
  out.set(body, 8 + len);
  return out;
}

const DTYPES = ['F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'I8', 'U8', 'BOOL', 'U64', 'F8_E4M3', 'f32', '', 'constructor', '__proto__', 7, null, ['F32']];
const SHAPES = [[-1], [1e12], [1e6, 1e6], [2 ** 53], [2 ** 64], [1.5], ['3'], [null], [], [[2]], 'x', null, {}, new Array(300).fill(1), new Array(64).fill(2), [0, 2 ** 53 - 1], [0, 1e300]];

/** A change to one tensor entry, the metadata or the header's layout, specific to safetensors. */
function mutateHeader(rng: Rng, header: string): [string, string] {
  const obj = JSON.parse(header) as Record<string, Record<string, unknown>>;
  const names = Object.keys(obj).filter((k) => k !== '__metadata__');
  const name = pick(rng, names);
  const entry = obj[name];
  const [b, e] = entry.data_offsets as [number, number];
  const other = obj[pick(rng, names)];
  switch (rng.int(9)) {
    case 0:
      entry.dtype = pick(rng, DTYPES);
      return [serialize(obj), `'${name}' dtype ${String(entry.dtype)}`];
    case 1: {
      const shape = entry.shape as number[];
      entry.shape = rng.int(2) ? structuredClone(pick(rng, SHAPES)) : shape.map((d) => pick(rng, [d, -d, d * 2, d + 0.5, 2 ** 40, 0]));
      return [serialize(obj), `'${name}' shape ${serialize(entry.shape).slice(0, 30)}`];
    }
    case 2: {
      const offsets = [[e, b], [b, b], other.data_offsets, [b, e + 1], [b, 2 ** 53], [b, 1e300], [b + 0.5, e + 0.5], [-1, e], ['0', e], [b], [b, e, e], null, [b - 4, e - 4], [0, e - b]];
      entry.data_offsets = structuredClone(pick(rng, offsets));
      return [serialize(obj), `'${name}' data_offsets ${serialize(entry.data_offsets)}`];
    }
    case 3: {
      const key = pick(rng, ['dtype', 'shape', 'data_offsets']);
      delete entry[key];
      return [serialize(obj), `'${name}' without ${key}`];
    }
    case 4:
      setOwn(entry, pick(rng, EXTRA_KEYS), pick(rng, WEIRD));
      return [serialize(obj), `'${name}' with an extra key`];
    case 5: {
      const metas = [[1], 5, null, 'x', { step: 5 }, { step: {} }, { step: 'abc' }, { step: '-1' }, { step: '1e400' }, { step: ' 2 ' }, undefined];
      const m = structuredClone(pick(rng, metas));
      if (m === undefined) delete obj.__metadata__;
      else setOwn(obj, '__metadata__', m);
      const meta: unknown = obj.__metadata__;
      if (rng.int(3) === 0 && typeof meta === 'object' && meta !== null) setOwn(meta, '__proto__', 'x');
      return [serialize(obj), `__metadata__ ${serialize(obj.__metadata__)}`];
    }
    case 6: // JSON cannot hold two equal keys in one object, so the duplicate is spliced into the text
      return [`${serialize(obj).slice(0, -1)},${JSON.stringify(name)}:${serialize(other)}}`, `duplicate '${name}'`];
    case 7: {
      const newName = pick(rng, ['__proto__', 'constructor', '', '__metadata__', 'toString']);
      delete obj[name];
      setOwn(obj, newName, entry);
      return [serialize(obj), `rename '${name}' to '${newName}'`];
    }
    default:
      return [pick(rng, ['[]', '5', '"x"', 'null', '{}', '{"a":{}}']), 'header not a tensor map'];
  }
}

/** One mutated safetensors file: damage to the length, the header's bytes or JSON, or a truncation. */
function mutateSafetensors(rng: Rng, bytes: Uint8Array): [Uint8Array, string] {
  const { header, body } = splitFile(bytes);
  const headerEnd = 8 + new TextEncoder().encode(header).length;
  const out = bytes.slice();
  switch (rng.int(6)) {
    case 0: {
      const flips = 1 + rng.int(4);
      for (let f = 0; f < flips; f++) out[rng.int(headerEnd)] ^= 1 << rng.int(8);
      return [out, `flip ${flips} bits in the length and header`];
    }
    case 1: {
      const hl = BigInt(headerEnd - 8);
      const lengths = [0n, 1n, 7n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 53n, BigInt(MAX_HEADER_BYTES) + 1n, BigInt(bytes.length - 8) + 1n, BigInt(bytes.length), hl - 1n, hl + 1n, hl + 8n, BigInt(rng.nextU32()) * 2n ** 32n + BigInt(rng.nextU32())];
      const len = pick(rng, lengths);
      new DataView(out.buffer).setBigUint64(0, len, true);
      return [out, `header length ${len}`];
    }
    case 2: {
      const zone = rng.int(3);
      const n = zone === 0 ? rng.int(8) : zone === 1 ? 8 + rng.int(headerEnd - 8) : headerEnd + rng.int(bytes.length - headerEnd);
      return [bytes.slice(0, n), `truncate to ${n} of ${bytes.length} bytes`];
    }
    case 3:
    case 4: {
      const [h, what] = mutateHeader(rng, header);
      return [assemble(h, body, rng.int(4) > 0), what];
    }
    default: {
      const holder: unknown[] = [JSON.parse(header)];
      const what = mutateJSON(rng, holder);
      return [assemble(holder.map(serialize).join(''), body, true), `header JSON: ${what}`];
    }
  }
}

// ---- checks on what decodes ----

/** A lower bound on the parameters a config builds, so the test never builds a huge one itself. */
function parameterFloor(m: GPTConfig): number {
  return m.vocabSize * m.nEmbd * (m.tieWeights ? 1 : 2) + m.blockSize * m.nEmbd + 12 * m.nLayer * m.nEmbd * m.nEmbd;
}

function checkDecodedConfig(label: string, c: { train: unknown; model: GPTConfig }): void {
  const m = c.model;
  const expected = modelConfigOf(c.train as Parameters<typeof modelConfigOf>[0], m.vocabSize);
  if (JSON.stringify(m) !== JSON.stringify(expected)) failures.push(`${label}: decoded model ${JSON.stringify(m)} disagrees with its train config`);
  if (!Number.isSafeInteger(m.vocabSize) || m.vocabSize <= 0 || !(parameterFloor(m) <= MAX_CHECKPOINT_PARAMETERS)) {
    failures.push(`${label}: decoded model ${JSON.stringify(m)} is not safe to build`);
  } else if (parameterFloor(m) < 1e6) {
    try {
      GPT.create(m);
    } catch (e) {
      failures.push(`${label}: GPT.create refused the decoded model: ${(e as Error).message}`);
    }
  }
}

function checkDecodedState(label: string, s: ReturnType<typeof parseState>): void {
  const word = (w: unknown) => Number.isInteger(w) && (w as number) >= 0 && (w as number) < 2 ** 32;
  const rngOk = (r: readonly unknown[]) => r.length === 4 && r.every(word) && r.some((w) => w !== 0);
  const lossOk = (l: unknown) => l === null || (typeof l === 'number' && Number.isFinite(l));
  if (!Number.isSafeInteger(s.step) || s.step < 0 || !rngOk(s.dataRng) || !rngOk(s.dropoutRng) || !lossOk(s.bestValLoss) || !lossOk(s.lastValLoss)) {
    failures.push(`${label}: decoded state ${JSON.stringify(s)} has out-of-range values`);
  }
}

function exerciseTokenizer(label: string, tok: { encode(s: string): number[]; decode(ids: readonly number[]): string; vocabSize: number }): void {
  attempt(`${label} encode/decode`, TokenizerError, () => tok.decode(tok.encode(text)));
  attempt(`${label} decode all ids`, TokenizerError, () => tok.decode(Array.from({ length: Math.min(tok.vocabSize, 5000) }, (_, i) => i)));
}

// ---- the cases ----

describe(`fuzzing the checkpoint readers (seed ${SEED})`, () => {
  for (const [block, file, count] of [[1, 'model', 700], [2, 'optimizer', 500]] as const) {
    it(`${count} mutated ${file}.safetensors files decode or throw SafetensorsError / CheckpointError`, () => {
      for (let i = 0; i < count; i++) {
        const [bytes, what] = mutateSafetensors(caseRng(block, i), original[file]);
        const label = `seed ${SEED} ${file} case ${i} (${what})`;
        attempt(`${label} decodeSafetensors`, SafetensorsError, () => decodeSafetensors(bytes, { source: `run/${file}.safetensors` }));
        if (file === 'model' && !attempt(`${label} decodeWeights`, CheckpointError, () => decodeWeights(bytes, 'run/model.safetensors'))) continue;
        attempt(`${label} restoreTrainer`, CheckpointError, () => restoreTrainer(target, { ...original, [file]: bytes }, 'run'));
      }
      expectNoBugs(`${file}.safetensors`);
    });
  }

  it('400 mutated config.json files decode to a buildable model or throw CheckpointError', () => {
    for (let i = 0; i < 400; i++) {
      const [textOut, what] = mutateFile(caseRng(3, i), files['config.json'] as string, hugeModel);
      const label = `seed ${SEED} config.json case ${i} (${what})`;
      const c = attempt(label, CheckpointError, () => parseRunConfig(textOut, 'run'));
      if (c) checkDecodedConfig(label, c);
    }
    expectNoBugs('config.json');
  });

  it('300 mutated state.json files decode to sane values or throw CheckpointError, and restore likewise', () => {
    for (let i = 0; i < 300; i++) {
      const [textOut, what] = mutateFile(caseRng(4, i), original.state, badGenerator);
      const label = `seed ${SEED} state.json case ${i} (${what})`;
      const s = attempt(label, CheckpointError, () => parseState(textOut, 'run'));
      if (!s) continue;
      checkDecodedState(label, s);
      attempt(`${label} restoreTrainer`, CheckpointError, () => restoreTrainer(target, { ...original, state: textOut }, 'run'));
    }
    expectNoBugs('state.json');
  });

  for (const [block, name, json, targeted] of [[5, 'char', charTok.toJSON(), badChars], [6, 'bpe', bpeTok.toJSON(), badMerges]] as const) {
    it(`300 mutated ${name} tokenizer.json files decode to a working tokenizer or throw TokenizerError / CheckpointError`, () => {
      for (let i = 0; i < 300; i++) {
        const [textOut, what] = mutateFile(caseRng(block, i), JSON.stringify(json), targeted);
        const label = `seed ${SEED} ${name} tokenizer.json case ${i} (${what})`;
        let parsed: unknown;
        try {
          parsed = JSON.parse(textOut);
        } catch {
          parsed = undefined;
        }
        if (parsed !== undefined) attempt(`${label} tokenizerFromJSON`, TokenizerError, () => tokenizerFromJSON(parsed));
        const tok = attempt(`${label} parseTokenizer`, CheckpointError, () => parseTokenizer(textOut, 'run'));
        if (tok) exerciseTokenizer(label, tok);
      }
      expectNoBugs(`${name} tokenizer.json`);
    });
  }
});

describe('the reader bugs the fuzzer found, one case each', () => {
  const config = JSON.parse(files['config.json'] as string);
  const state = JSON.parse(original.state);
  const withConfig = (train: object, model: object) => JSON.stringify({ ...config, train: { ...config.train, ...train }, model: { ...config.model, ...model } });
  const withState = (fields: object) => JSON.stringify({ ...state, ...fields });

  it('config.json: an invalid train config is a CheckpointError, not a ConfigError', () => {
    expect(() => parseRunConfig(withConfig({ nEmbd: 'x' }, {}), 'run')).toThrow(CheckpointError);
    expect(() => parseRunConfig(withConfig({ nEmbd: 'x' }, {}), 'run')).toThrow(/run\/config.json \(field 'train'\) is invalid:\n {2}- field 'nEmbd' = "x"/);
  });

  it('config.json: a model that is not the one its train config builds is refused by field', () => {
    expect(() => parseRunConfig(withConfig({}, { nLayer: 4294967296 }), 'run')).toThrow('run/config.json: model.nLayer = 4294967296 but train.nLayer = 1');
    expect(() => parseRunConfig(withConfig({}, { nHead: undefined }), 'run')).toThrow('model.nHead = undefined but train.nHead = 2');
    expect(() => parseRunConfig(withConfig({}, { vocabSize: -1 }), 'run')).toThrow('model.vocabSize = -1; it must be an integer in [1, 2097152]');
    expect(() => parseRunConfig(withConfig({}, {}).replace('"model":{', '"model":{"__proto__":{},'), 'run')).toThrow('unknown field model.__proto__');
    expect(() => parseRunConfig(JSON.stringify({ ...config, model: [] }), 'run')).toThrow("field 'model' must be an object");
  });

  it('config.json: a model too large to build is refused before GPT.create allocates it', () => {
    expect(() => parseRunConfig(withConfig({ nEmbd: 1e9 }, { nEmbd: 1e9 }), 'run')).toThrow(/needs at least 1\.20e\+19 parameters, above the 134217728/);
    expect(() => parseRunConfig(withConfig({ nLayer: 1e6 }, { nLayer: 1e6 }), 'run')).toThrow('nLayer = 1000000, more than the 1024 layers');
  });

  it('any file nested deeper than resnorm writes is refused before messages quote it', () => {
    const deep = '['.repeat(20000) + ']'.repeat(20000);
    expect(() => parseRunConfig((files['config.json'] as string).replace('"nEmbd": 8', `"nEmbd": ${deep}`), 'run')).toThrow('run/config.json nests arrays or objects more than 32 levels deep');
    expect(() => parseTokenizer(`{"kind":"char","version":1,"chars":${deep}}`, 'run')).toThrow(CheckpointError);
  });

  it('state.json: a generator state of zeros, a negative step and a non-number loss are refused, not met later in Rng.setState', () => {
    expect(() => parseState(withState({ dataRng: [0, 0, 0, 0] }), 'run')).toThrow('run/state.json: dataRng = [0,0,0,0]; a generator state is four uint32 words, not all zero');
    expect(() => parseState(withState({ step: -2 }), 'run')).toThrow('step = -2; it must be a non-negative integer');
    expect(() => parseState(withState({ step: 2 ** 53 }), 'run')).toThrow(CheckpointError);
    expect(() => parseState(withState({ bestValLoss: '3.2' }), 'run')).toThrow('bestValLoss = "3.2"; it must be a finite number or null');
    expect(() => parseState(withState({ lastValLoss: [3.2] }), 'run')).toThrow(CheckpointError);
    expect(parseState(withState({ bestValLoss: undefined, lastValLoss: null }), 'run').bestValLoss).toBeNull();
  });
});

describe('config.json written before the activations were renamed', () => {
  const current = files['config.json'] as string;
  const written = (name: string) => current.replaceAll('"activation": "gelu"', `"activation": "${name}"`);

  it('new runs write the new names, in both halves', () => {
    expect(current.match(/"activation": "gelu"/g)).toHaveLength(2);
  });

  it("reads 'none' as 'gelu' and 'tanh' as 'gelu-tanh', and such a run loads, resumes and is saved with the new names", async () => {
    for (const [old, now] of [['none', 'gelu'], ['tanh', 'gelu-tanh']] as const) {
      const c = parseRunConfig(written(old), 'old-run');
      expect(c.train.activation).toBe(now);
      expect(c.model.activation).toBe(now);
      const resumed = new Trainer(GPT.create(c.model, { seed: 3 }), c.train, data);
      restoreTrainer(resumed, original, 'old-run'); // the weights carry no activation; only config.json names it
      expect(resumed.step).toBe(2);
      await resumed.run(3);
      const saved = (await encodeCheckpoint(resumed, charTok))['config.json'] as string;
      expect(saved.match(new RegExp(`"activation": "${now}"`, 'g'))).toHaveLength(2);
      expect(saved).not.toContain(`"activation": "${old}"`);
    }
  });

  it('still refuses halves that disagree, and the old names anywhere but a saved run', () => {
    const mixed = current.replace('"activation": "gelu"', '"activation": "tanh"');
    expect(() => parseRunConfig(mixed, 'run')).toThrow('run/config.json: model.activation = "gelu" but train.activation = "gelu-tanh"');
    expect(() => parseTrainConfig({ activation: 'tanh' }, 'flags')).toThrow(`flags is invalid:\n  - field 'activation' = "tanh": Invalid option: expected one of "gelu"|"gelu-tanh"`);
  });
});

