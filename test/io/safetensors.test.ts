// safetensors: round trips for every dtype, byte layout built from the spec (independently of the
// writer), interop with the reference Python library's bytes, and every kind of corrupt file.
import { describe, expect, it } from 'vitest';
import {
  MAX_HEADER_BYTES,
  SafetensorsError,
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsTensor,
} from '../../src/io/safetensors.ts';

/** A file from a raw header string and raw data bytes, exactly as the spec lays it out. */
function rawFile(header: string, data: Uint8Array | number = 0, lengthOverride?: bigint): Uint8Array {
  const h = new TextEncoder().encode(header);
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

function expectCorrupt(bytes: Uint8Array, ...fragments: (string | RegExp)[]): void {
  let caught: unknown;
  try {
    decodeSafetensors(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(SafetensorsError);
  for (const f of fragments) expect((caught as Error).message).toMatch(f);
}

describe('encodeSafetensors / decodeSafetensors round trip', () => {
  it('preserves names, dtypes, shapes, values and metadata', () => {
    const tensors: Record<string, SafetensorsTensor> = {
      'h.0.ln_1.weight': { dtype: 'F32', shape: [3], data: new Float32Array([1.5, -2, 3.25]) },
      wte: { dtype: 'F64', shape: [2, 2], data: new Float64Array([Math.PI, -0, 1e-300, -1e300]) },
      ids: { dtype: 'I32', shape: [2, 3], data: new Int32Array([0, -1, 2 ** 31 - 1, -(2 ** 31), 7, 8]) },
      scalar: { dtype: 'F32', shape: [], data: new Float32Array([42]) },
      empty: { dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
      small: { dtype: 'I8', shape: [3], data: [-128, 0, 127] },
      u16: { dtype: 'U16', shape: [2], data: [0, 65535] },
      i16: { dtype: 'I16', shape: [2], data: [-32768, 32767] },
      u32: { dtype: 'U32', shape: [1], data: [4294967295] },
      bytes: { dtype: 'U8', shape: [2], data: new Uint8Array([0, 255]) },
      mask: { dtype: 'BOOL', shape: [3], data: [1, 0, 1] },
    };
    const meta = { format: 'pt', note: 'ünïcode ✓ 🚀' };
    const { tensors: back, metadata } = decodeSafetensors(encodeSafetensors(tensors, meta));
    expect(metadata).toEqual(meta);
    expect([...back.keys()].sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const got = back.get(name)!;
      expect(got.dtype).toBe(t.dtype);
      expect(got.shape).toEqual(t.shape);
      expect(Array.from(got.data)).toEqual(Array.from(t.data));
    }
    expect(back.get('wte')!.data).toBeInstanceOf(Float64Array);
    expect(back.get('ids')!.data).toBeInstanceOf(Int32Array);
    expect(back.get('h.0.ln_1.weight')!.data).toBeInstanceOf(Float32Array);
    expect(Object.is(back.get('wte')!.data[1], -0)).toBe(true);
  });

  it('writes I64 and reads it back as Int32Array', () => {
    const bytes = encodeSafetensors({ t: { dtype: 'I64', shape: [3], data: new Int32Array([-5, 0, 2 ** 31 - 1]) } });
    const t = decodeSafetensors(bytes).tensors.get('t')!;
    expect(t.dtype).toBe('I64');
    expect(t.data).toBeInstanceOf(Int32Array);
    expect(Array.from(t.data)).toEqual([-5, 0, 2 ** 31 - 1]);
  });

  it('rejects I64 values outside int32 on read, naming the tensor and element', () => {
    const bytes = encodeSafetensors({ big: { dtype: 'I64', shape: [2], data: [1, 2 ** 40] } });
    expect(() => decodeSafetensors(bytes)).toThrow(/tensor 'big': element 1 is 1099511627776, outside the int32 range/);
  });

  it('converts F16 and BF16 to Float32Array, rounding to nearest even on write', () => {
    const values = [0, -0, 1, -2.5, 65504, 1 / 3, 6e-8, Infinity, -Infinity, 70000];
    const f16 = decodeSafetensors(encodeSafetensors({ t: { dtype: 'F16', shape: [values.length], data: values } })).tensors.get('t')!;
    expect(f16.data).toBeInstanceOf(Float32Array);
    // 1/3 → 0.333251953125 (nearest binary16); 6e-8 → 2^-24 (smallest subnormal); 70000 overflows.
    expect(Array.from(f16.data)).toEqual([0, -0, 1, -2.5, 65504, 0.333251953125, 2 ** -24, Infinity, -Infinity, Infinity]);
    // BF16 keeps 7 mantissa bits: 1 + 2^-8 is a tie (→ 1, even), 1 + 3·2^-8 a tie (→ 1 + 2^-6, even);
    // the largest float32 rounds past BF16's largest finite value to Infinity.
    const bfIn = [1, -2.5, 1 / 3, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4028234663852886e38];
    const bf16 = decodeSafetensors(encodeSafetensors({ t: { dtype: 'BF16', shape: [bfIn.length], data: bfIn } })).tensors.get('t')!;
    expect(Array.from(bf16.data)).toEqual([1, -2.5, 0.333984375, 1, 1 + 2 ** -6, Infinity]);
    const nan = decodeSafetensors(encodeSafetensors({ a: { dtype: 'F16', shape: [1], data: [NaN] }, b: { dtype: 'BF16', shape: [1], data: [NaN] } }));
    expect(nan.tensors.get('a')!.data[0]).toBeNaN();
    expect(nan.tensors.get('b')!.data[0]).toBeNaN();
  });

  it('reads F16 bit patterns exactly (subnormals, max, ties-to-even)', () => {
    const bits = [0x0001, 0x03ff, 0x0400, 0x3c00, 0x3c01, 0x7bff, 0xfc00, 0x8000];
    const data = new Uint8Array(bits.length * 2);
    bits.forEach((b, i) => new DataView(data.buffer).setUint16(2 * i, b, true));
    const t = decodeSafetensors(rawFile(`{"t":{"dtype":"F16","shape":[${bits.length}],"data_offsets":[0,${data.length}]}}`, data)).tensors.get('t')!;
    expect(Array.from(t.data)).toEqual([2 ** -24, 1023 * 2 ** -24, 2 ** -14, 1, 1 + 2 ** -10, 65504, -Infinity, -0]);
    // 1 + 2^-11 is exactly halfway between 1 and 1 + 2^-10: ties to the even mantissa (1).
    const w = decodeSafetensors(encodeSafetensors({ t: { dtype: 'F16', shape: [2], data: [1 + 2 ** -11, 1 + 3 * 2 ** -11] } })).tensors.get('t')!;
    expect(Array.from(w.data)).toEqual([1, 1 + 2 * 2 ** -10]);
  });

  it('reads tensors at unaligned offsets into aligned arrays', () => {
    const data = new Uint8Array(1 + 8);
    new DataView(data.buffer).setFloat32(1, 1.5, true);
    new DataView(data.buffer).setFloat32(5, -7, true);
    const header = '{"pad":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"x":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}';
    const x = decodeSafetensors(rawFile(header, data)).tensors.get('x')!;
    expect(Array.from(x.data)).toEqual([1.5, -7]);
  });

  it('decodes from a Uint8Array that is a view into a larger buffer', () => {
    const file = encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: [1, 2] } });
    const big = new Uint8Array(file.length + 3);
    big.set(file, 3);
    expect(Array.from(decodeSafetensors(big.subarray(3)).tensors.get('a')!.data)).toEqual([1, 2]);
  });
});

describe('byte layout', () => {
  it('matches a layout built from the spec: u64 length, space-padded JSON, sorted tensors, little-endian', () => {
    const bytes = encodeSafetensors(
      { zeta: { dtype: 'F32', shape: [2], data: [1, -2] }, alpha: { dtype: 'I32', shape: [1, 1], data: [258] } },
      { k: 'v' },
    );
    // Expected header per the spec: tensors packed in sorted-name order from offset 0.
    const expectedHeader = {
      __metadata__: { k: 'v' },
      alpha: { dtype: 'I32', shape: [1, 1], data_offsets: [0, 4] },
      zeta: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    };
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = Number(view.getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(JSON.parse(headerText)).toEqual(expectedHeader);
    const json = headerText.trimEnd();
    expect(headerText.slice(json.length)).toMatch(/^ {0,7}$/);
    expect(json.length).toBeGreaterThan(n - 8);
    // Tensor order inside the header text follows the data order.
    expect(headerText.indexOf('"alpha"')).toBeLessThan(headerText.indexOf('"zeta"'));
    const expectedData = new Uint8Array(12);
    const dv = new DataView(expectedData.buffer);
    dv.setInt32(0, 258, true);
    dv.setFloat32(4, 1, true);
    dv.setFloat32(8, -2, true);
    expect(bytes.length).toBe(8 + n + 12);
    expect(Array.from(bytes.subarray(8 + n))).toEqual(Array.from(expectedData));
  });

  it('is byte-identical to the reference Python library for {"test": zeros((2,2), int32)}', () => {
    // From huggingface/safetensors' own serialization test: '@' is the length 64.
    const header = '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}    ';
    const expected = [64, 0, 0, 0, 0, 0, 0, 0, ...Array.from(header, (c) => c.charCodeAt(0)), ...new Array(16).fill(0)];
    const bytes = encodeSafetensors({ test: { dtype: 'I32', shape: [2, 2], data: new Int32Array(4) } });
    expect(Array.from(bytes)).toEqual(expected);
  });

  it('keeps integer-like names in sorted order in the header text', () => {
    const bytes = encodeSafetensors({ b: { dtype: 'U8', shape: [1], data: [1] }, '10': { dtype: 'U8', shape: [1], data: [2] }, '2': { dtype: 'U8', shape: [1], data: [3] } });
    const text = new TextDecoder().decode(bytes);
    expect(text.indexOf('"10"')).toBeLessThan(text.indexOf('"2"'));
    expect(text.indexOf('"2"')).toBeLessThan(text.indexOf('"b"'));
  });

  it('is deterministic regardless of the insertion order of the tensors', () => {
    const a = { dtype: 'F32' as const, shape: [1], data: [1] };
    const b = { dtype: 'F32' as const, shape: [1], data: [2] };
    expect(encodeSafetensors({ a, b })).toEqual(encodeSafetensors({ b, a }));
  });
});

describe('encode rejects bad input', () => {
  it('names the tensor for a data length that disagrees with the shape', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2, 3], data: new Float32Array(5) } })).toThrow(
      /tensor 'w' has shape \[2, 3\] \(6 elements\) but its data holds 5/,
    );
  });
  it('rejects negative or fractional dims, non-integers for integer dtypes, reserved names, non-string metadata', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [-1], data: [] } })).toThrow(SafetensorsError);
    expect(() => encodeSafetensors({ w: { dtype: 'I32', shape: [1], data: [1.5] } })).toThrow(/element 0 is 1.5, not an integer/);
    expect(() => encodeSafetensors({ w: { dtype: 'U8', shape: [1], data: [256] } })).toThrow(/not an integer in \[0, 255\]/);
    expect(() => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: [] } })).toThrow(/reserved/);
    expect(() => encodeSafetensors({}, { n: 3 as unknown as string })).toThrow(/metadata 'n' is number/);
    expect(() => encodeSafetensors({ w: { dtype: 'Q4' as 'F32', shape: [0], data: [] } })).toThrow(/dtype 'Q4'/);
  });
  it('names the file when given a source', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [1], data: [] } }, undefined, { source: 'run/ckpt.safetensors' })).toThrow(
      /^safetensors file 'run\/ckpt.safetensors': tensor 'w'/,
    );
  });
});

describe('decode rejects corrupt files before touching data', () => {
  const good = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';

  it('a file shorter than the length field', () => {
    expectCorrupt(new Uint8Array(5), /5 bytes, shorter than the 8-byte header length/);
  });
  it('a header length beyond the file', () => {
    expectCorrupt(rawFile(good, 8, 1000n), /header length field says 1000 bytes but only \d+ bytes follow/);
  });
  it('a header length above the sanity cap', () => {
    expectCorrupt(rawFile(good, 8, BigInt(MAX_HEADER_BYTES) + 1n), /above the 104857600-byte limit/);
    expectCorrupt(rawFile(good, 8, 2n ** 63n), /above the/);
  });
  it('a truncated file (data cut short)', () => {
    const full = encodeSafetensors({ 'h.0.ln_1.weight': { dtype: 'F32', shape: [64], data: new Float32Array(64) } });
    expectCorrupt(full.subarray(0, full.length - 1), /tensor 'h.0.ln_1.weight' claims bytes \[0, 256\) but the data buffer .* only 255 bytes/);
  });
  it('invalid UTF-8 in the header', () => {
    const f = rawFile(good, 8);
    f[9] = 0xff;
    expectCorrupt(f, /not valid UTF-8/);
  });
  it('bad JSON, and JSON that is not an object', () => {
    expectCorrupt(rawFile('{"w":{"dtype":', 8), /not valid JSON/);
    expectCorrupt(rawFile('[1,2]', 8), /must be a JSON object.*found an array/);
    expectCorrupt(rawFile('null', 8), /found null/);
  });
  it('an unknown or unsupported dtype', () => {
    expectCorrupt(rawFile('{"w":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}', 8), /tensor 'w' has dtype 'F33', not a safetensors dtype/);
    expectCorrupt(rawFile('{"w":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}', 8), /a safetensors dtype resnorm does not read/);
    expectCorrupt(rawFile('{"w":{"shape":[2],"data_offsets":[0,8]}}', 8), /no string 'dtype'/);
  });
  it('a bad shape', () => {
    expectCorrupt(rawFile('{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', 8), /shape \[-2\]/);
    expectCorrupt(rawFile('{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}', 8), /non-negative integers/);
    expectCorrupt(rawFile('{"w":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}', 8), /non-negative integers/);
    // Found by test/io/fuzz-readers.test.ts: quoting a deep nest with JSON.stringify overflowed the stack.
    const deep = '['.repeat(20000) + ']'.repeat(20000);
    expectCorrupt(rawFile(`{"w":{"dtype":"F32","shape":${deep},"data_offsets":[0,8]}}`, 8), /shape \[\[\[…\]\]\]; a shape must be/);
    expectCorrupt(rawFile(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,${deep}]}}`, 8), /data_offsets \[0,\[\[…\]\]\]/);
  });
  it('offsets that are malformed, reversed or out of range', () => {
    expectCorrupt(rawFile('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}}', 8), /data_offsets \[0\]/);
    expectCorrupt(rawFile('{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}', 8), /begin after end/);
    expectCorrupt(rawFile('{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', 8), /claims bytes \[4, 12\) but the data buffer after the header is only 8 bytes/);
  });
  it('a shape that disagrees with the byte range', () => {
    expectCorrupt(
      rawFile('{"h.0.ln_1.weight":{"dtype":"F32","shape":[64],"data_offsets":[0,512]}}', 512),
      "tensor 'h.0.ln_1.weight' claims bytes [0, 512) (512 bytes) but its shape [64] of F32 needs 256 bytes; the file is corrupt",
    );
  });
  it('overlapping tensors', () => {
    const h = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    expectCorrupt(rawFile(h, 12), /tensors 'a' \[0, 8\) and 'b' \[4, 12\) overlap/);
    // Empty tensors occupy no bytes, so they never overlap.
    const e = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}';
    expect(decodeSafetensors(rawFile(e, 8)).tensors.get('z')!.shape).toEqual([0]);
  });
  it('metadata that is not a map of strings', () => {
    expectCorrupt(rawFile('{"__metadata__":{"step":3}}'), /__metadata__ key 'step' must be a string, found number 3/);
    expectCorrupt(rawFile('{"__metadata__":[]}'), /__metadata__ must be an object/);
  });
  it('a BOOL byte other than 0 or 1', () => {
    expectCorrupt(rawFile('{"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}', new Uint8Array([1, 7])), /BOOL element 1 is the byte 7/);
  });
  it('names the file when given a source', () => {
    expect(() => decodeSafetensors(new Uint8Array(3), { source: 'x.safetensors' })).toThrow(/^safetensors file 'x.safetensors': /);
  });
  it('accepts an empty file with only an empty header', () => {
    const { tensors, metadata } = decodeSafetensors(encodeSafetensors({}));
    expect(tensors.size).toBe(0);
    expect(metadata).toEqual({});
  });
});
