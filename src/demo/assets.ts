// The demo page's files: index.html, app.js and app.css (the page, with uPlot and the dashboard's chart
// module), engine-worker.js (the engine, src/worker/), the wasm kernels and the sample text. The package
// build (scripts/build-assets.ts) bundles them into dist/demo/page/, and the compiled server reads them
// there; run from the TypeScript sources (tests, a checkout without a build) they are bundled in memory
// with esbuild when first asked for, as the dashboard's are (src/dashboard/assets.ts).

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bundledFiles, type Asset } from '../dashboard/bundled-files.ts';
import { sampleText } from './sample-text.ts';

export type { Asset } from '../dashboard/bundled-files.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The page shell: no inline script or style (the server's CSP allows only 'self'); app.js builds the rest. */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>resnorm demo</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="app.css">
<script type="module" src="app.js"></script>
</head>
<body><div id="app"><p>Loading the resnorm demo… (it needs JavaScript and WebAssembly SIMD)</p></div></body>
</html>
`;

/**
 * esbuild's options for the page and the engine worker, one definition for the build script and the
 * in-memory bundle. ES modules: the worker is a module worker, and `new URL('./kernels-….wasm',
 * import.meta.url)` in it then finds the kernels beside it. The `node:` imports are dynamic and reached
 * only under Node.
 */
export const DEMO_BUILD = {
  absWorkingDir: root,
  entryPoints: [
    { in: 'src/demo/page/main.ts', out: 'app' },
    { in: 'src/worker/engine-worker.ts', out: 'engine-worker' },
  ],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  external: ['node:*'],
  minify: true,
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'silent',
} as const;

/** The bundled files, by name. */
export type DemoBundle = Record<'app.js' | 'app.css' | 'engine-worker.js' | 'sample.txt', string>;
const BUNDLED = ['app.js', 'app.css', 'engine-worker.js', 'sample.txt'] as const;

/** The kernels: dist/backend/wasm/ beside the compiled module, or src/backend/wasm/ beside the sources. */
const KERNELS = { 'kernels-simd.wasm': new URL('../backend/wasm/kernels-simd.wasm', import.meta.url), 'kernels-relaxed.wasm': new URL('../backend/wasm/kernels-relaxed.wasm', import.meta.url) };

/** app.js, app.css, engine-worker.js and sample.txt, read or built once per process. */
export const demoBundle: () => Promise<DemoBundle> = bundledFiles(import.meta.url, BUNDLED, "the demo page", async () => {
  const { build } = await import('esbuild');
  const out = await build({ ...DEMO_BUILD, entryPoints: [...DEMO_BUILD.entryPoints], external: [...DEMO_BUILD.external], outdir: '/', write: false });
  const files: Partial<DemoBundle> = { 'sample.txt': sampleText() };
  for (const f of out.outputFiles) {
    const name = f.path.slice(1) as keyof DemoBundle;
    if ((BUNDLED as readonly string[]).includes(name)) files[name] = f.text;
  }
  for (const f of BUNDLED) if (files[f] === undefined) throw new Error(`the demo page's bundle lacks ${f}`);
  return files as DemoBundle;
});

const JS = 'text/javascript; charset=utf-8';

/** URL path → asset: every file the demo server serves (and nothing else reaches the file system). */
export async function demoAssets(): Promise<Map<string, Asset>> {
  const b = await demoBundle();
  const kernels = await Promise.all(
    Object.entries(KERNELS).map(async ([name, url]): Promise<[string, Asset]> => {
      try {
        return [`/${name}`, { body: new Uint8Array(await readFile(url)), type: 'application/wasm' }];
      } catch (e) {
        throw new Error(`the wasm kernels are missing at ${fileURLToPath(url)} (${(e as Error).message}); run \`npm run build:wasm\` and \`npm run build\``);
      }
    }),
  );
  return new Map<string, Asset>([
    ['/', { body: INDEX_HTML, type: 'text/html; charset=utf-8' }],
    ['/app.js', { body: b['app.js'], type: JS }],
    ['/app.css', { body: b['app.css'], type: 'text/css; charset=utf-8' }],
    ['/engine-worker.js', { body: b['engine-worker.js'], type: JS }],
    ['/sample.txt', { body: b['sample.txt'], type: 'text/plain; charset=utf-8' }],
    ...kernels,
  ]);
}
