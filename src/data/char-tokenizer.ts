// A character-level tokenizer (nanoGPT's shakespeare_char): one token per Unicode code point of
// the training text. Code points, not UTF-16 units, so an emoji is one token and never half of one.

import type { CharTokenizerJSON, Tokenizer } from './tokenizer.ts';
import { TokenizerError, checkSavedTokenizer, preview } from './tokenizer-error.ts';

export class CharTokenizer implements Tokenizer {
  readonly kind = 'char';
  /** The vocabulary in increasing code-point order; a character's id is its index. */
  readonly chars: readonly string[];
  private readonly ids: Map<string, number>;

  /** `chars` must be distinct single code points in increasing order (what fromText produces). */
  constructor(chars: readonly string[]) {
    if (chars.length === 0) throw new TokenizerError('a character tokenizer needs at least one character; train it on a non-empty text');
    chars.forEach((c, i) => {
      if (typeof c !== 'string' || c.length === 0 || String.fromCodePoint(c.codePointAt(0)!) !== c) {
        throw new TokenizerError(`character tokenizer entry ${i} is ${preview(c)}, not a single Unicode code point`);
      }
      if (i > 0 && chars[i - 1].codePointAt(0)! >= c.codePointAt(0)!) {
        throw new TokenizerError(`character tokenizer entries ${i - 1} and ${i} (${describe(chars[i - 1])}, ${describe(c)}) are not in increasing code-point order`);
      }
    });
    this.chars = [...chars];
    this.ids = new Map(chars.map((c, i) => [c, i]));
  }

  /** The vocabulary is the sorted set of code points in `text`. */
  static fromText(text: string): CharTokenizer {
    if (text.length === 0) throw new TokenizerError('the training text is empty; a character tokenizer learns its vocabulary from the text, so give it some');
    const set = new Set(text); // iterates by code point
    return new CharTokenizer([...set].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  static fromJSON(json: unknown): CharTokenizer {
    const obj = checkSavedTokenizer(json, 'char');
    if (!Array.isArray(obj.chars)) throw new TokenizerError(`char tokenizer JSON field 'chars' must be an array of characters, found ${typeof obj.chars}`);
    return new CharTokenizer(obj.chars as string[]);
  }

  get vocabSize(): number {
    return this.chars.length;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    let position = 0;
    for (const c of text) {
      const id = this.ids.get(c);
      if (id === undefined) {
        throw new TokenizerError(
          `the character ${describe(c)} at position ${position} (counting code points from 0) is not in the vocabulary: a character tokenizer only knows the ${this.chars.length} distinct characters of its training text; remove it from the input, or train on a text that contains it (or use the BPE tokenizer, which covers any text)`,
        );
      }
      out.push(id);
      position++;
    }
    return out;
  }

  decode(ids: readonly number[]): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const c = this.chars[ids[i]];
      if (c === undefined || !Number.isInteger(ids[i])) {
        throw new TokenizerError(`token id ${ids[i]} at index ${i} is outside the character vocabulary [0, ${this.chars.length}); were these ids made by a different tokenizer?`);
      }
      s += c;
    }
    return s;
  }

  toJSON(): CharTokenizerJSON {
    return { kind: 'char', version: 1, chars: [...this.chars] };
  }
}

/** 'x' (U+0078): quoted so that spaces and newlines are visible, with the code so any character is. */
function describe(c: string): string {
  const code = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `${JSON.stringify(c)} (U+${code})`;
}
