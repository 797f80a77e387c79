// Loads the PyTorch-made fixtures in test/fixtures/ (see scripts/make_fixtures.py) from the file system;
// what they hold, and how the engine takes it, is fixture-data.ts's.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFixture, type Fixture } from './fixture-data.ts';

export * from './fixture-data.ts';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export function loadFixture(...path: string[]): Fixture {
  const file = join(FIXTURES, ...path);
  return { ...decodeFixture(new Uint8Array(readFileSync(file)), file), name: path[path.length - 1].replace(/\.safetensors$/, '') };
}

export function listFixtures(dir: string): string[] {
  return readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.safetensors'))
    .sort();
}
