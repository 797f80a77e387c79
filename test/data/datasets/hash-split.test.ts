// hash-split: FNV-1a test vectors, and splits that are deterministic, disjoint, of the asked sizes,
// and stable when other items come and go.
import { describe, expect, it } from 'vitest';
import { checkFractions, fnv1a32, hashBytes, hashKey, splitByKey, splitOfKey } from '../../../src/data/datasets/hash-split.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);
const F = { val: 0.05, test: 0.05 };

describe('hashes', () => {
  it('fnv1a32 matches the published FNV-1a 32-bit test vectors', () => {
    // From the FNV reference test suite (isthe.com/chongo/tech/comp/fnv).
    expect(fnv1a32(utf8(''))).toBe(0x811c9dc5);
    expect(fnv1a32(utf8('a'))).toBe(0xe40c292c);
    expect(fnv1a32(utf8('foobar'))).toBe(0xbf9cf968);
  });
  it('hashKey is hashBytes of the UTF-8 bytes, on the ASCII fast path and off it', () => {
    for (const k of ['', 'a', 'aaron\'s', 'café', 'naïve résumé', '日本語', '🙂 emoji']) expect(hashKey(k)).toBe(hashBytes(utf8(k)));
  });
});

describe('splitByKey', () => {
  const keys = Array.from({ length: 50_000 }, (_, i) => `word${i}`);

  it('puts about the asked fraction in each split, disjointly, keeping the input order', () => {
    const s = splitByKey(keys, (k) => k, F);
    expect(s.train.length + s.val.length + s.test.length).toBe(keys.length);
    for (const part of [s.val, s.test]) expect(Math.abs(part.length / keys.length - 0.05)).toBeLessThan(0.004); // σ ≈ 0.001
    const all = new Set([...s.train, ...s.val, ...s.test]);
    expect(all.size).toBe(keys.length);
    const order = (a: string[]) => a.every((k, i) => i === 0 || Number(k.slice(4)) > Number(a[i - 1].slice(4)));
    expect(order(s.train) && order(s.val) && order(s.test)).toBe(true);
  });
  it('gives every key the same split whatever else is in the list, and whatever the order', () => {
    const full = splitByKey(keys, (k) => k, F);
    const fewer = splitByKey(keys.filter((_, i) => i % 3 !== 0).reverse(), (k) => k, F);
    const where = (s: { train: string[]; val: string[]; test: string[] }) =>
      new Map([...s.train.map((k) => [k, 'train']), ...s.val.map((k) => [k, 'val']), ...s.test.map((k) => [k, 'test'])] as [string, string][]);
    const a = where(full);
    const moved = [...where(fewer)].filter(([k, s]) => a.get(k) !== s);
    expect(moved).toEqual([]);
    expect(splitOfKey('word42', F)).toBe(a.get('word42'));
  });
  it('keeps the test set fixed when only the validation fraction changes', () => {
    const a = splitByKey(keys, (k) => k, { val: 0.05, test: 0.05 });
    const b = splitByKey(keys, (k) => k, { val: 0.2, test: 0.05 });
    expect(b.test.join()).toBe(a.test.join());
  });
  it('keeps items that share a key together', () => {
    const items = keys.slice(0, 2000).flatMap((k) => [{ k, n: 1 }, { k, n: 2 }]);
    const s = splitByKey(items, (i) => i.k, F);
    for (const part of [s.train, s.val, s.test]) {
      const ks = part.map((i) => i.k);
      expect(ks.length).toBe(2 * new Set(ks).size);
    }
  });
  it('refuses fractions outside [0, 1) or leaving nothing to train on', () => {
    expect(() => checkFractions({ val: -0.1, test: 0.1 })).toThrow('the val fraction is -0.1; it must be in [0, 1)');
    expect(() => checkFractions({ val: 0.1, test: 1 })).toThrow('the test fraction is 1');
    expect(() => checkFractions({ val: 0.1, test: NaN })).toThrow('the test fraction is NaN');
    expect(() => checkFractions({ val: 0.5, test: 0.5 })).toThrow('the val and test fractions add up to 1; together they must be below 1');
    expect(() => splitByKey(['a'], (k) => k, { val: 0.6, test: 0.6 })).toThrow(/add up to 1\.2/);
  });
});
