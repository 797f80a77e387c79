// corpus: nanoGPT-style train/val split and random next-token batches.
import { describe, expect, it } from 'vitest';
import { sampleBatch, splitTrainVal } from '../../src/data/corpus.ts';

const iota = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

describe('splitTrainVal', () => {
  it('keeps the first 90% for training and the last 10% for validation, as views', () => {
    const ids = iota(100);
    const { train, val } = splitTrainVal(ids);
    expect(train.length).toBe(90);
    expect(val.length).toBe(10);
    expect(train[89]).toBe(89);
    expect(val[0]).toBe(90);
    expect(train.buffer).toBe(ids.buffer);
  });
  it('floors like int(n * 0.9) and honours other fractions', () => {
    expect(splitTrainVal(iota(15)).train.length).toBe(13);
    expect(splitTrainVal(iota(10), 0.25).train.length).toBe(7);
    expect(splitTrainVal(iota(10), 0).val.length).toBe(0);
  });
  it('rejects a bad fraction or a text too short to split', () => {
    expect(() => splitTrainVal(iota(10), 1)).toThrow(/valFraction is 1/);
    expect(() => splitTrainVal(iota(10), -0.1)).toThrow(RangeError);
    expect(() => splitTrainVal(iota(1), 0.1)).toThrow(/cannot split 1 tokens/);
    expect(() => splitTrainVal(iota(5), 1e-17)).toThrow(/one part would be empty/);
    expect(() => splitTrainVal(iota(0))).toThrow(/cannot split 0 tokens/);
  });
});

describe('sampleBatch', () => {
  it('returns (B, T) inputs whose targets are the inputs shifted by one', () => {
    const data = iota(50).map((v) => v * 3);
    let calls = 0;
    const offsets = [0, 7, 41];
    const { x, y } = sampleBatch(data, 3, 8, (n) => {
      expect(n).toBe(42); // offsets in [0, n − T)
      return offsets[calls++];
    });
    expect(x.length).toBe(24);
    expect(y.length).toBe(24);
    for (let b = 0; b < 3; b++) {
      for (let t = 0; t < 8; t++) {
        expect(x[b * 8 + t]).toBe(data[offsets[b] + t]);
        expect(y[b * 8 + t]).toBe(data[offsets[b] + t + 1]);
      }
    }
  });
  it('maps a 32-bit generator onto every valid offset, including the last', () => {
    const data = iota(12);
    const words = [0, 0xffffffff, 0x80000000];
    let i = 0;
    const { x } = sampleBatch(data, 3, 4, { nextU32: () => words[i++] });
    expect([x[0], x[4], x[8]]).toEqual([0, 7, 4]); // range 8: 0 → 0, max → 7, half → 4
  });
  it('works when the data is exactly T + 1 tokens long', () => {
    const { x, y } = sampleBatch(iota(5), 2, 4, () => 0);
    expect(Array.from(x)).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(Array.from(y)).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
  });
  it('explains a corpus shorter than block_size + 1', () => {
    expect(() => sampleBatch(iota(40), 4, 64, () => 0)).toThrow(
      'The training text has 40 tokens but block_size is 64: a batch needs at least block_size + 1 = 65 tokens',
    );
    expect(() => sampleBatch(iota(64), 4, 64, () => 0, 'validation split')).toThrow(/^The validation split has 64 tokens/);
  });
  it('rejects bad B, T, and an RNG that leaves the range', () => {
    expect(() => sampleBatch(iota(10), 0, 4, () => 0)).toThrow(/batch size is 0/);
    expect(() => sampleBatch(iota(10), 1, 2.5, () => 0)).toThrow(/block_size is 2.5/);
    expect(() => sampleBatch(iota(10), 1, 4, () => 6)).toThrow(/returned 6 for a draw in \[0, 6\)/);
  });
});
