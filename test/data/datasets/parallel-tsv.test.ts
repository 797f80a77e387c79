// parallel-tsv: parsing source<TAB>target lines (and ManyThings' three-column files), every error
// with its line, deduplication, and the split by source sentence.
import { describe, expect, it } from 'vitest';
import { DatasetError } from '../../../src/data/datasets/dataset-error.ts';
import { splitOfKey } from '../../../src/data/datasets/hash-split.ts';
import { parallelDataset, parseParallelTsv } from '../../../src/data/datasets/parallel-tsv.ts';

const enc = (s: string) => new TextEncoder().encode(s);

describe('parseParallelTsv', () => {
  it('reads two columns, or three with the attribution ignored, trimming each side', () => {
    const text = 'Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #1158250 (Wittydev)\n\n Hi. \t Salut ! \r\n';
    expect(parseParallelTsv(enc(text), 'fra.txt')).toEqual([
      { line: 1, source: 'Go.', target: 'Va !' },
      { line: 3, source: 'Hi.', target: 'Salut !' },
    ]);
  });
  it('says which line has the wrong number of columns, or an empty side', () => {
    const err = (text: string) => () => parseParallelTsv(text, 'pairs.tsv');
    expect(err('a\tb\nonly one column\n')).toThrow(DatasetError);
    expect(err('a\tb\nonly one column\n')).toThrow('pairs.tsv, line 2: expected 2 tab-separated columns (source, target), found 1; separate the two sides with one tab character');
    expect(err('a\tb\tc\td\n')).toThrow("pairs.tsv, line 1: expected 2 tab-separated columns (source, target), found 4; a third column (ManyThings' attribution) is allowed, no more");
    expect(err('a\tb\n\tb\n')).toThrow('pairs.tsv, line 2: the source (column 1) is empty');
    expect(err('a\t  \n')).toThrow('pairs.tsv, line 1: the target (column 2) is empty');
    expect(err('\n  \n')).toThrow('pairs.tsv has no pairs: it is empty or only blank lines; expected source<TAB>target per line');
    expect(() => parseParallelTsv(Uint8Array.from([0x61, 0x09, 0x62, 0x0a, 0x63, 0x09, 0xff]), 'p.tsv')).toThrow('p.tsv, line 2: invalid UTF-8 (byte 0xFF at byte 3 of the line)');
  });
});

describe('parallelDataset', () => {
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) lines.push(`sentence ${i}\tphrase ${i}`, `sentence ${i}\tautre phrase ${i}`);
  lines.push('sentence 7\tphrase 7'); // an exact duplicate
  const pairs = parseParallelTsv(lines.join('\n'));

  it('drops exact duplicates and keeps every translation of one source in one split', () => {
    const d = parallelDataset(pairs);
    expect(d.lines).toBe(6001);
    expect(d.duplicates).toBe(1);
    expect(d.train.length + d.val.length + d.test.length).toBe(6000);
    for (const name of ['train', 'val', 'test'] as const) {
      for (const p of d[name]) expect(splitOfKey(p.source.join(''), { val: 0.05, test: 0.05 })).toBe(name);
    }
    expect(d.val.length).toBeGreaterThan(150); // about 300 expected
    expect(d.test.length).toBeGreaterThan(150);
  });
  it('gives code-point symbols and their sorted inventories', () => {
    const d = parallelDataset(parseParallelTsv('café 🙂\tnaïve\n'));
    expect(d.train.concat(d.val, d.test)[0]).toEqual({ source: ['c', 'a', 'f', 'é', ' ', '🙂'], target: ['n', 'a', 'ï', 'v', 'e'] });
    expect(d.sourceSymbols).toEqual([' ', 'a', 'c', 'f', 'é', '🙂']);
    expect(d.targetSymbols).toEqual(['a', 'e', 'n', 'v', 'ï']);
  });
  it('is the same split whatever the order of the file', () => {
    const a = parallelDataset(pairs);
    const b = parallelDataset([...pairs].reverse());
    const key = (ps: { source: string[]; target: string[] }[]) => ps.map((p) => `${p.source.join('')}|${p.target.join('')}`).sort();
    expect(key(b.test)).toEqual(key(a.test));
    expect(key(b.val)).toEqual(key(a.val));
  });
});
