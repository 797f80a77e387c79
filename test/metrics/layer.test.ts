// src/metrics is a pure library layer: it imports only its own files (no engine layer, no Node module),
// so it runs unchanged in a browser or a Web Worker.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = join(import.meta.dirname, '..', '..', 'src', 'metrics');

describe('src/metrics layering', () => {
  it.each(readdirSync(DIR).filter((f) => f.endsWith('.ts')))('%s imports only ./ siblings', (file) => {
    const src = readFileSync(join(DIR, file), 'utf8');
    const specifiers = [...src.matchAll(/^\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);
    for (const s of specifiers) expect(s, `${file} imports '${s}'`).toMatch(/^\.\/[a-z-]+\.ts$/);
    expect(src).not.toMatch(/\brequire\(|import\(/);
  });
});
