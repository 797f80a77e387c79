// tiktoken's form of a byte-level BPE vocabulary (a rank table: token r's bytes, for each r) as
// merges. tiktoken keeps no merges list: token r's bytes are what the merges before r turn into
// exactly two tokens, and those two are merge r − 256 (tiktoken's educational `bpe_train` inverse).
// gpt-tokenizer ships GPT-2's table (r50k_base), so GPT-2's real tokenizer files can be rebuilt from
// it with no network: the tests and the GPT-2 bench do.

import { mergeWord, pairKey } from './bpe-merge.ts';
import { BASE_BYTES, BYTE_TO_ID } from './byte-unicode.ts';
import { TokenizerError } from './tokenizer-error.ts';

/** Entry r: token r's bytes, as a string (its UTF-8) or as byte values. The first 256 are the bytes, in GPT-2's order. */
export function mergesFromRanks(ranks: readonly (string | readonly number[])[]): [number, number][] {
  const utf8 = new TextEncoder();
  const rankOf = new Map<number, number>();
  const merges: [number, number][] = [];
  ranks.forEach((entry, r) => {
    const bytes = typeof entry === 'string' ? utf8.encode(entry) : Uint8Array.from(entry);
    if (r < 256) {
      if (bytes.length !== 1 || bytes[0] !== BASE_BYTES[r]) throw new TokenizerError(`rank ${r} is not byte ${BASE_BYTES[r]}; the first 256 ranks must be the bytes in GPT-2's order`);
      return;
    }
    const parts = mergeWord(Array.from(bytes, (b) => BYTE_TO_ID[b]), rankOf);
    if (parts.length !== 2) throw new TokenizerError(`rank ${r} is made by ${parts.length} tokens under the earlier merges, not 2; it is not a BPE rank table`);
    merges.push([parts[0], parts[1]]);
    rankOf.set(pairKey(parts[0], parts[1]), r - 256);
  });
  return merges;
}
