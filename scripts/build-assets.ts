// The package build's second half (after `tsc -p tsconfig.build.json` compiles src/ to dist/): the files
// tsc does not emit. The wasm kernels go beside the compiled loader (dist/backend/wasm/, where its
// `new URL('./kernels-….wasm', import.meta.url)` looks), and the dashboard page is bundled into
// dist/dashboard/page/ and the demo's page, engine worker and sample text into dist/demo/page/, so that
// the installed CLI needs neither esbuild nor uPlot at run time.
// Run by `npm run build`.

import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { PAGE_BUILD } from '../src/dashboard/assets.ts';
import { DEMO_BUILD } from '../src/demo/assets.ts';
import { sampleText } from '../src/demo/sample-text.ts';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');

const wasmDir = join(dist, 'backend', 'wasm');
await mkdir(wasmDir, { recursive: true });
for (const f of ['kernels-simd.wasm', 'kernels-relaxed.wasm']) await copyFile(join(root, 'src', 'backend', 'wasm', f), join(wasmDir, f));

await build({ ...PAGE_BUILD, entryPoints: [...PAGE_BUILD.entryPoints], outdir: join(dist, 'dashboard', 'page') });

const demoDir = join(dist, 'demo', 'page');
await build({ ...DEMO_BUILD, entryPoints: [...DEMO_BUILD.entryPoints], external: [...DEMO_BUILD.external], outdir: demoDir });
await writeFile(join(demoDir, 'sample.txt'), sampleText());
