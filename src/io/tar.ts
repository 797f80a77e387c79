// A POSIX ustar archive writer: how the demo page hands a run directory over as one download
// (`tar xf run.tar`). Regular files and directories only; paths up to 255 bytes (ustar's prefix/name split).

export type TarEntry = { path: string; data: Uint8Array } | { path: string; directory: true };

const BLOCK = 512;
const encoder = new TextEncoder();

/** Writes `value` as zero-padded octal in a field of `width` bytes, NUL-terminated. */
function octal(h: Uint8Array, offset: number, width: number, value: number, what: string): void {
  const s = Math.floor(value).toString(8).padStart(width - 1, '0');
  if (s.length > width - 1) throw new Error(`tar: ${what} ${value} does not fit a ustar header`);
  h.set(encoder.encode(s), offset);
}

/** ustar's name (100 bytes) and prefix (155 bytes): a long path is split at a '/'. */
function splitPath(path: string): { name: Uint8Array; prefix: Uint8Array } {
  const bytes = encoder.encode(path);
  if (bytes.length <= 100) return { name: bytes, prefix: new Uint8Array(0) };
  for (let i = bytes.length - 2; i > 0; i--) {
    if (bytes[i] !== 0x2f || i > 155 || bytes.length - i - 1 > 100) continue;
    return { name: bytes.subarray(i + 1), prefix: bytes.subarray(0, i) };
  }
  throw new Error(`tar: the path ${path} is too long for a ustar archive (at most 155 + 100 bytes, split at a '/')`);
}

function header(path: string, size: number, type: '0' | '5', mode: number, mtime: number): Uint8Array {
  if (path === '' || path.startsWith('/') || path.split('/').includes('..')) throw new Error(`tar: refusing the path ${JSON.stringify(path)} (relative paths inside the archive only)`);
  const h = new Uint8Array(BLOCK);
  const { name, prefix } = splitPath(path);
  h.set(name, 0);
  octal(h, 100, 8, mode, 'mode');
  octal(h, 108, 8, 0, 'uid');
  octal(h, 116, 8, 0, 'gid');
  octal(h, 124, 12, size, 'size');
  octal(h, 136, 12, mtime, 'mtime');
  h.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  h[156] = type.charCodeAt(0);
  h.set(encoder.encode('ustar\u000000'), 257);
  h.set(prefix, 345);
  let sum = 0;
  for (const b of h) sum += b;
  h.set(encoder.encode(sum.toString(8).padStart(6, '0') + '\u0000 '), 148);
  return h;
}

/** The archive of `entries`, in their order (a directory before what is in it). */
export function writeTar(entries: readonly TarEntry[], o: { mtime?: Date } = {}): Uint8Array {
  const mtime = Math.floor((o.mtime ?? new Date()).getTime() / 1000);
  const parts: Uint8Array[] = [];
  let total = 2 * BLOCK; // two zero blocks end the archive
  for (const e of entries) {
    const h = 'directory' in e ? header(e.path.replace(/\/*$/, '/'), 0, '5', 0o755, mtime) : header(e.path, e.data.length, '0', 0o644, mtime);
    parts.push(h);
    total += BLOCK;
    if ('data' in e) {
      parts.push(e.data);
      total += Math.ceil(e.data.length / BLOCK) * BLOCK;
    }
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += Math.ceil(p.length / BLOCK) * BLOCK; // file data is zero-padded to whole blocks
  }
  return out;
}

/** Files as tar entries, each parent directory once before them: a run directory's tree. */
export function treeEntries(files: readonly { path: string; data: Uint8Array }[]): TarEntry[] {
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [...[...dirs].sort().map((path) => ({ path, directory: true as const })), ...files];
}
