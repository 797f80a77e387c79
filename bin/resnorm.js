#!/usr/bin/env -S node --max-semi-space-size=1
// The `resnorm` command. Loads the TypeScript sources through tsx, so there is no build step to remember.
// --max-semi-space-size=1: a training step allocates only small JS handles (tensor data lives in backend
// memory), so a small young generation costs no speed and keeps resident memory flat over a long run
// (V8 otherwise grows it to 16 MiB semispaces over the first ~800 steps: npm run bench, memory rows).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
