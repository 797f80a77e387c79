// labelled-tsv: label<TAB>text lines, their errors, the label order, the split by text, and the
// evaluation-time check that names an unknown label and lists the known ones.
import { describe, expect, it } from 'vitest';
import { encodeLabelled, labelSet, labelledDataset, parseLabelledTsv } from '../../../src/data/datasets/labelled-tsv.ts';

describe('parseLabelledTsv', () => {
  it('splits at the first tab, keeps tabs inside the text, trims, skips blank lines', () => {
    expect(parseLabelledTsv('pos\tgreat film\n\nneg \t dull\tand long \n', 'r.tsv')).toEqual([
      { line: 1, label: 'pos', text: 'great film' },
      { line: 3, label: 'neg', text: 'dull\tand long' },
    ]);
  });
  it('says which line lacks a column, a label or a text', () => {
    expect(() => parseLabelledTsv('pos\tok\nno tab here\n', 'r.tsv')).toThrow(
      'r.tsv, line 2: expected 2 tab-separated columns (label, text), found 1; put a tab between the label and the text',
    );
    expect(() => parseLabelledTsv('\tno label\n', 'r.tsv')).toThrow('r.tsv, line 1: the label (column 1) is empty');
    expect(() => parseLabelledTsv('pos\tok\nneg\t   \n', 'r.tsv')).toThrow('r.tsv, line 2: the text (column 2) is empty');
    expect(() => parseLabelledTsv('', 'r.tsv')).toThrow('r.tsv has no examples: it is empty or only blank lines; expected label<TAB>text per line');
    expect(() => parseLabelledTsv(Uint8Array.from([0x61, 0x09, 0xc3, 0x28]), 'r.tsv')).toThrow('r.tsv, line 1: invalid UTF-8 (byte 0xC3 at byte 3 of the line)');
  });
});

describe('labels', () => {
  it('orders integer labels numerically and others by code point', () => {
    expect(labelSet([{ label: '10' }, { label: '2' }, { label: '0' }, { label: '2' }])).toEqual(['0', '2', '10']);
    expect(labelSet([{ label: 'spam' }, { label: 'Ham' }, { label: 'ham' }])).toEqual(['Ham', 'ham', 'spam']);
  });
  it('refuses, at evaluation, a label the model was not trained on, naming it and listing the known ones', () => {
    const rows = parseLabelledTsv('pos\tgood\nneutral\tmeh\n', 'eval.tsv');
    expect(() => encodeLabelled(rows, ['neg', 'pos'], 'eval.tsv')).toThrow('eval.tsv, line 2: label "neutral" is not one of the 2 labels the model was trained on: "neg", "pos"');
    expect(() => labelledDataset(rows, { labels: ['neg', 'pos'], source: 'eval.tsv' })).toThrow(/label "neutral" is not one of the 2 labels/);
    const many = Array.from({ length: 25 }, (_, i) => `c${i}`);
    expect(() => encodeLabelled(rows, many, 'eval.tsv')).toThrow(/"c19", … and 5 more$/);
  });
});

describe('labelledDataset', () => {
  const text = Array.from({ length: 2000 }, (_, i) => `${i % 3 === 0 ? 'spam' : 'ham'}\tmessage number ${i % 1000}`).join('\n');
  const d = labelledDataset(parseLabelledTsv(text, 'm.tsv'));

  it('splits about 80/10/10 by text, so copies of one text share a split', () => {
    expect(d.labels).toEqual(['ham', 'spam']);
    expect(d.train.length + d.val.length + d.test.length).toBe(2000);
    expect(d.val.length).toBeGreaterThan(120); // 200 expected, in pairs
    expect(d.test.length).toBeGreaterThan(120);
    const texts = (s: { text: string }[]) => new Set(s.map((e) => e.text));
    for (const t of texts(d.test)) expect(texts(d.train).has(t)).toBe(false);
  });
  it('counts every class in every split, and ids name the line', () => {
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    expect(sum(d.counts.train)).toBe(d.train.length);
    expect(d.counts.train[1] + d.counts.val[1] + d.counts.test[1]).toBe(667);
    expect(d.train[0].id).toMatch(/^line \d+$/);
  });
});
