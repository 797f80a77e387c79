// GPT-2's byte-level alphabet: each of the 256 bytes gets a printable Unicode character (Radford
// et al. 2019, encoder.py `bytes_to_unicode`), so tokens can be shown and stored as text (a leading
// space shows as 'Ġ'). Its order also fixes our base token ids, making them GPT-2's ids.

/** BASE_BYTES[id] is the byte that base token `id` (0..255) stands for, in GPT-2's order. */
export const BASE_BYTES: readonly number[] = buildOrder();

/** BYTE_TO_ID[byte] is the base token id of that byte (the inverse of BASE_BYTES). */
export const BYTE_TO_ID: Int32Array = (() => {
  const inv = new Int32Array(256);
  BASE_BYTES.forEach((byte, id) => (inv[byte] = id));
  return inv;
})();

/** BYTE_TO_CHAR[byte] is the printable character GPT-2 shows for that byte. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const chars: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) chars[b] = String.fromCodePoint(isPrintable(b) ? b : 256 + n++);
  return chars;
})();

/** CHAR_TO_BYTE maps GPT-2's printable characters back to bytes. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** The bytes GPT-2 maps to themselves: '!'..'~', '¡'..'¬', '®'..'ÿ'. */
function isPrintable(b: number): boolean {
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

function buildOrder(): number[] {
  const order: number[] = [];
  for (let b = 0; b < 256; b++) if (isPrintable(b)) order.push(b);
  for (let b = 0; b < 256; b++) if (!isPrintable(b)) order.push(b);
  return order;
}
