// Loads the PyTorch-made fixtures in test/fixtures/ (see scripts/make_fixtures.py).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors, type DecodedTensor } from '../../src/io/safetensors.ts';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export interface Fixture {
  name: string;
  tensors: Map<string, DecodedTensor>;
  metadata: Record<string, string>;
}

export function loadFixture(...path: string[]): Fixture {
  const file = join(FIXTURES, ...path);
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(file)), { source: file });
  return { name: path[path.length - 1].replace(/\.safetensors$/, ''), tensors, metadata };
}

export function listFixtures(dir: string): string[] {
  return readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.safetensors'))
    .sort();
}

export function get(f: Fixture, name: string): DecodedTensor {
  const t = f.tensors.get(name);
  if (!t) throw new Error(`fixture ${f.name} has no tensor '${name}'`);
  return t;
}
