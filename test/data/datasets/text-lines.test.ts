// text-lines: the UTF-8 validator agrees with TextDecoder's fatal mode; errors name the line and byte.
import { describe, expect, it } from 'vitest';
import { DatasetError } from '../../../src/data/datasets/dataset-error.ts';
import { decodeUtf8Text, firstInvalidUtf8, tsvLines } from '../../../src/data/datasets/text-lines.ts';

const bytes = (...parts: (string | number[])[]) => {
  const out: number[] = [];
  for (const p of parts) out.push(...(typeof p === 'string' ? new TextEncoder().encode(p) : p));
  return Uint8Array.from(out);
};

describe('firstInvalidUtf8', () => {
  it('agrees with TextDecoder (fatal) on valid text, each bad form, and 3,000 random byte strings', () => {
    const fatal = new TextDecoder('utf-8', { fatal: true });
    const valid = (b: Uint8Array) => {
      try {
        fatal.decode(b);
        return true;
      } catch {
        return false;
      }
    };
    const cases = [
      bytes('plain ASCII, é, 日本, 🙂'),
      bytes([0xc0, 0x80]), // overlong NUL
      bytes([0xe0, 0x80, 0x80]), // overlong
      bytes([0xed, 0xa0, 0x80]), // a surrogate
      bytes([0xf4, 0x90, 0x80, 0x80]), // past U+10FFFF
      bytes([0xf5, 0x80, 0x80, 0x80]),
      bytes('ok', [0xe6, 0x97]), // cut short
      bytes([0x80]),
      bytes([0xff]),
    ];
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    for (let n = 0; n < 3000; n++) {
      // mostly valid multi-byte text with a few random bytes in it
      const b = bytes('aé日🙂'.repeat(1 + (n % 3)));
      for (let k = 0; k < 1 + (n % 2); k++) b[next() % b.length] = next();
      cases.push(b);
    }
    for (const c of cases) expect(firstInvalidUtf8(c) < 0).toBe(valid(c));
  });
});

describe('decodeUtf8Text and tsvLines', () => {
  it('names the line and byte of the first invalid byte', () => {
    const b = bytes('one\ttwo\nthree\tfour\ncaf', [0xe9], '\tcafe\n');
    expect(() => decodeUtf8Text(b, 'pairs.tsv')).toThrow(DatasetError);
    expect(() => decodeUtf8Text(b, 'pairs.tsv')).toThrow(
      'pairs.tsv, line 3: invalid UTF-8 (byte 0xE9 at byte 4 of the line); convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8)',
    );
  });
  it('refuses NUL bytes as binary', () => {
    expect(() => decodeUtf8Text(bytes('a\tb\n', [0], '\n'), 'x.tsv')).toThrow('x.tsv looks binary: line 2 contains a NUL byte; give a UTF-8 text file');
  });
  it('drops a BOM, reads \\r\\n, skips blank lines, and numbers lines as an editor does', () => {
    const lines = tsvLines(bytes([0xef, 0xbb, 0xbf], 'a\tb\r\n\r\n   \nc\td\n'), 'f');
    expect(lines).toEqual([
      { line: 1, text: 'a\tb' },
      { line: 4, text: 'c\td' },
    ]);
    expect(tsvLines('\ufeffx\ty', 'f')).toEqual([{ line: 1, text: 'x\ty' }]);
  });
});
