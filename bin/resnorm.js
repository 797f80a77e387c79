#!/usr/bin/env -S node --max-semi-space-size=1
// The `resnorm` command: the compiled CLI in dist/ (`npm run build` makes it; an installed package ships
// it), with no TypeScript loader at run time.
// --max-semi-space-size=1: a training step allocates only small JS handles (tensor data lives in backend
// memory), so a small young generation costs no speed and keeps resident memory flat over a long run
// (V8 otherwise grows it to 16 MiB semispaces over the first ~800 steps: npm run bench, memory rows).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error(`resnorm is not built: ${main.pathname} is missing. In a checkout, run \`npm install\` (it builds) or \`npm run build\`.`);
  process.exit(1);
}
const { runCli } = await import(main.href);
await runCli(process.argv);
