// GPT-2's pre-tokenizer: splits text into words (letters, digits, punctuation runs, whitespace,
// English contractions) so BPE merges never cross word boundaries (Radford et al. 2019, encoder.py).

/** GPT-2's pattern verbatim; every character belongs to some branch, so the pieces cover the text. */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** The words of `text`, in order; their concatenation is `text`. */
export function pretokenize(text: string): string[] {
  return text.match(new RegExp(GPT2_PATTERN)) ?? [];
}
