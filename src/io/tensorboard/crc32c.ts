// CRC-32C (Castagnoli), the checksum of TFRecord framing, and the "masked" form TensorFlow stores.
// Table-driven, one byte at a time: an event file is a few hundred bytes a step, so speed is moot.

// The reflected Castagnoli polynomial 0x1EDC6F41 (RFC 3720, iSCSI), as TensorFlow's crc32c uses.
const POLY = 0x82f63b78;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** The CRC-32C of `data`, as an unsigned 32-bit number (crc32c("123456789") = 0xe3069283). */
export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// TensorFlow (like LevelDB) stores CRCs masked, because a CRC over data that embeds CRCs is weak
// (tsl/lib/hash/crc32c.h): rotate right by 15 bits and add a constant.
const MASK_DELTA = 0xa282ead8;

export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

export function maskedCrc32c(data: Uint8Array): number {
  return maskCrc(crc32c(data));
}
