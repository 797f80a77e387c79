// Reading a user's TSV file as numbered lines: refuses binary data and invalid UTF-8 with the line
// and byte where the problem is (TextDecoder's fatal mode says only that the input is invalid).

import { DatasetError } from './dataset-error.ts';

export interface NumberedLine {
  /** 1-based, as an editor shows it. */
  line: number;
  text: string;
}

/**
 * The offset of the first byte that is not part of well-formed UTF-8, or −1. The same rules as the
 * WHATWG decoder: no overlong forms, no surrogates (ED A0..BF), nothing past U+10FFFF.
 */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return -1;
}

function lineAndColumn(b: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset; i++) {
    if (b[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

const hex = (v: number) => `0x${v.toString(16).toUpperCase().padStart(2, '0')}`;

/** Decodes UTF-8 bytes (a leading BOM is dropped), or throws naming the line of the first bad byte. */
export function decodeUtf8Text(bytes: Uint8Array, source: string): string {
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const { line } = lineAndColumn(bytes, nul);
    throw new DatasetError(`${source} looks binary: line ${line} contains a NUL byte; give a UTF-8 text file`);
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    const { line, column } = lineAndColumn(bytes, bad);
    throw new DatasetError(
      `${source}, line ${line}: invalid UTF-8 (byte ${hex(bytes[bad])} at byte ${column} of the line); convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8)`,
    );
  }
  return new TextDecoder('utf-8').decode(bytes); // strips a BOM
}

/** The lines of a text (\n or \r\n), numbered from 1, without the ones that are empty or only spaces. */
export function nonBlankLines(text: string): NumberedLine[] {
  const out: NumberedLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (t.trim().length > 0) out.push({ line: i + 1, text: t });
  }
  return out;
}

/** Bytes or already-decoded text → numbered non-blank lines. */
export function tsvLines(input: Uint8Array | string, source: string): NumberedLine[] {
  const text = typeof input === 'string' ? (input.charCodeAt(0) === 0xfeff ? input.slice(1) : input) : decodeUtf8Text(input, source);
  return nonBlankLines(text);
}
