// docs/api.md shows the examples verbatim: its code blocks must be the files the pack test runs, so the
// documentation cannot drift from code that is known to work.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

describe('docs/api.md', () => {
  const doc = readFileSync(join(root, 'docs', 'api.md'), 'utf8');
  const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  it.each(['train.mjs', 'sample.mjs'])('shows examples/node/%s as it is', (file) => {
    expect(blocks).toContain(readFileSync(join(root, 'examples', 'node', file), 'utf8'));
  });
});
