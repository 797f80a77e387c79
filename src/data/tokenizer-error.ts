// The one error type tokenizers throw (bad input text, unknown ids, malformed saved JSON), so
// callers such as the CLI can catch exactly these, plus the checks every saved form shares.

import { previewJSON as preview } from '../io/json-preview.ts';

export { preview };

export class TokenizerError extends Error {
  override readonly name = 'TokenizerError';
}

/** Checks a saved tokenizer's envelope — an object of this kind, version 1 — and returns it as a record. */
export function checkSavedTokenizer(json: unknown, kind: 'char' | 'bpe'): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TokenizerError(`${kind} tokenizer JSON must be an object, found ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}`);
  }
  const obj = json as Record<string, unknown>;
  if (obj.kind !== kind) throw new TokenizerError(`${kind} tokenizer JSON has kind ${preview(obj.kind)}, expected '${kind}'`);
  if (obj.version !== 1) {
    throw new TokenizerError(`${kind} tokenizer JSON has version ${preview(obj.version)}; this resnorm reads version 1 — upgrade resnorm or re-train the tokenizer`);
  }
  return obj;
}
