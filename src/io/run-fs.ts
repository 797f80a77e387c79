// The few file operations a run directory needs, as an interface: Node's fs implements it in cli/, the
// tests wrap it to inject crashes and full disks at every step, and a browser's storage can later.
// Writing and syncing are separate calls on purpose: what is durable, and when, is the caller's design.

/** Paths are '/'-joined strings; errors carry Node-style codes ('ENOENT', 'ENOSPC', 'EACCES', …). */
export interface RunFs {
  /** The file's bytes, or null when it does not exist. */
  readFile(path: string): Promise<Uint8Array | null>;
  /** Creates or replaces the file with these bytes; not durable until syncFile. */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** Appends bytes (creating the file); a crash may leave a torn last record, which readers repair. */
  appendFile(path: string, data: Uint8Array): Promise<void>;
  /** Flushes the file's data to the disk (fsync). */
  syncFile(path: string): Promise<void>;
  /** Flushes a directory's entries, so renames and new files in it survive a power loss. */
  syncDir(path: string): Promise<void>;
  /** Atomically replaces `to` with `from` (POSIX rename). */
  rename(from: string, to: string): Promise<void>;
  /** Creates the directory and its parents; an existing directory is fine. */
  mkdir(path: string): Promise<void>;
  /** Removes a file or a directory tree; a missing one is fine. */
  remove(path: string): Promise<void>;
  /** The names in a directory, or null when it does not exist. */
  list(path: string): Promise<string[] | null>;
  /** 'file', 'dir', or null when nothing is there. */
  kind(path: string): Promise<'file' | 'dir' | null>;
}

export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '' && p !== '.').join('/') || '.';
}

/** The error code of a failed file operation ('ENOSPC', …), or undefined for other errors. */
export function fsErrorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const encoder = new TextEncoder();

export function utf8(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? encoder.encode(data) : data;
}

/**
 * Replaces `path` so that a crash leaves the old file or the new one, never a mix: write a temporary
 * file beside it, sync it, rename it over the target, sync the directory.
 */
export async function writeFileAtomic(fs: RunFs, path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp`;
  await fs.writeFile(tmp, utf8(data));
  await fs.syncFile(tmp);
  await fs.rename(tmp, path);
  await fs.syncDir(parentOf(path));
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? (i === 0 ? '/' : '.') : path.slice(0, i);
}
