// dataset-files: the Node side — Fashion-MNIST from Debian's package, directories of IDX files
// (plain, gzip, Kaggle's spelling), and the one-line UserErrors for missing or bad files.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FASHION_MNIST_DIR, findIdxFiles, loadIdxDirectory, loadImages, loadLabelledTsv, loadParallelTsv } from '../../../src/cli/dataset-files.ts';
import { UserError } from '../../../src/cli/errors.ts';
import { idxBytes, imageFiles } from './idx-fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'resnorm-datasets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function mnistDir(name: string, opts: { gzip?: boolean; dotted?: boolean; size?: number } = {}): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const tr = imageFiles(500, opts.size, opts.size);
  const te = imageFiles(100, opts.size, opts.size);
  const files: [string, Uint8Array][] = [
    ['train-images-idx3-ubyte', tr.images],
    ['train-labels-idx1-ubyte', tr.labels],
    ['t10k-images-idx3-ubyte', te.images],
    ['t10k-labels-idx1-ubyte', te.labels],
  ];
  for (const [n, b] of files) {
    const file = (opts.dotted ? n.replace('-idx', '.idx') : n) + (opts.gzip ? '.gz' : '');
    writeFileSync(join(dir, file), opts.gzip ? gzipSync(b) : b);
  }
  return dir;
}

describe.skipIf(!existsSync(FASHION_MNIST_DIR))("Fashion-MNIST from Debian's dataset-fashion-mnist", () => {
  it('is the default image data, with its class names and the counts measured when this was written', () => {
    const { data, source } = loadImages(undefined);
    expect(source).toBe(`Fashion-MNIST (Zalando Research), Debian's dataset-fashion-mnist in ${FASHION_MNIST_DIR}`);
    expect(data.classNames).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    // Regression values, measured by running idxDataset on the package's files: 60,000 training images,
    // 5,968 of them held out for validation by the pixel hash; the official 10,000 test images, 1,000 per class.
    expect([data.train.count, data.val.count, data.test.count]).toEqual([54_032, 5_968, 10_000]);
    expect([data.train.rows, data.train.cols, data.train.pixels.length]).toEqual([28, 28, 54_032 * 784]);
    const perClass = new Array(10).fill(0);
    for (const l of data.test.labels) perClass[l]++;
    expect(perClass).toEqual(new Array(10).fill(1000));
  });
});

describe('loadImages and loadIdxDirectory', () => {
  it('says how to get image data when Fashion-MNIST is absent', () => {
    expect(() => loadImages(undefined, {}, join(tmp, 'no-such-dir'))).toThrow(UserError);
    expect(() => loadImages(undefined, {}, join(tmp, 'no-such-dir'))).toThrow(
      `no image data: the default, Fashion-MNIST, is not installed at ${join(tmp, 'no-such-dir')}; install it (apt-get install dataset-fashion-mnist) or pass --data DIR holding MNIST-format files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])`,
    );
  });
  it('reads the four files plain, gzipped, or with Kaggle\'s dotted names, to the same data', () => {
    const plain = loadImages(mnistDir('plain')).data;
    expect(plain.train.count + plain.val.count).toBe(500);
    expect(plain.test.count).toBe(100);
    for (const d of [loadIdxDirectory(mnistDir('gz', { gzip: true })).data, loadIdxDirectory(mnistDir('kaggle', { dotted: true })).data]) {
      expect(Buffer.from(d.val.pixels).equals(plain.val.pixels)).toBe(true); // not toEqual: slow on 40k elements
      expect(Buffer.from(d.test.labels).equals(plain.test.labels)).toBe(true);
    }
  });
  it('names the missing files, a file given for a directory, a corrupt gzip, and a parser error as UserErrors', () => {
    const partial = join(tmp, 'partial');
    mkdirSync(partial);
    writeFileSync(join(partial, 'train-images-idx3-ubyte.gz'), gzipSync(idxBytes([1, 28, 28])));
    expect(() => findIdxFiles(partial)).toThrow(
      `--data ${partial} lacks train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]; an MNIST-format directory holds the four files`,
    );
    const file = join(partial, 'train-images-idx3-ubyte.gz');
    expect(() => loadImages(file)).toThrow(`--data ${file}: is a file, not a directory; give a directory holding`);
    expect(() => loadImages(join(tmp, 'nope'))).toThrow(`--data ${join(tmp, 'nope')}: no such directory`);

    const bad = mnistDir('bad-gzip', { gzip: true });
    writeFileSync(join(bad, 't10k-labels-idx1-ubyte.gz'), gzipSync(imageFiles(100).labels).subarray(0, 30));
    expect(() => loadIdxDirectory(bad)).toThrow(`${join(bad, 't10k-labels-idx1-ubyte.gz')} is not a valid gzip file (unexpected end of file); download it again`);

    const big = mnistDir('32px', { size: 32 });
    expect(() => loadIdxDirectory(big)).toThrow(UserError);
    expect(() => loadIdxDirectory(big)).toThrow(`${join(big, 'train-images-idx3-ubyte')} holds 32×32 images, but the model expects 28×28`);
    expect(loadIdxDirectory(big, { rows: 32, cols: 32 }).data.test.rows).toBe(32);
  });
});

describe('loadParallelTsv and loadLabelledTsv', () => {
  it('read the files and turn parser errors into UserErrors naming the file and line', () => {
    const pairs = join(tmp, 'pairs.tsv');
    writeFileSync(pairs, 'Go.\tVa !\nHi.\tSalut !\n');
    const p = loadParallelTsv(pairs);
    expect(p.source).toBe(pairs);
    expect(p.data.train.length + p.data.val.length + p.data.test.length).toBe(2);
    const labelled = join(tmp, 'labelled.tsv');
    writeFileSync(labelled, 'pos\tgreat\nneg\tdull\n');
    expect(loadLabelledTsv(labelled).data.labels).toEqual(['neg', 'pos']);
    expect(() => loadLabelledTsv(labelled, { labels: ['pos'] })).toThrow(`${labelled}, line 2: label "neg" is not one of the 1 labels the model was trained on: "pos"`);

    const latin1 = join(tmp, 'latin1.tsv');
    writeFileSync(latin1, Buffer.from('caf\xe9\tcoffee\n', 'latin1'));
    expect(() => loadParallelTsv(latin1)).toThrow(UserError);
    expect(() => loadParallelTsv(latin1)).toThrow(`${latin1}, line 1: invalid UTF-8 (byte 0xE9 at byte 4 of the line)`);
    expect(() => loadParallelTsv(join(tmp, 'missing.tsv'))).toThrow(`--data ${join(tmp, 'missing.tsv')}: no such file or directory`);
    expect(() => loadLabelledTsv(tmp)).toThrow(`--data ${tmp} is a directory; this task reads one .tsv file`);
  });
});
