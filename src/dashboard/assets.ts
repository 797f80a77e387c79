// The dashboard page's files: index.html, app.js (the page and uPlot, one bundle) and app.css (ours and
// uPlot's). The package's build (scripts/build-assets.ts) bundles them into dist/dashboard/page/, and
// the compiled server reads them there; run from the TypeScript sources (tests, a checkout without a
// build) they are bundled in memory with esbuild when first asked for (about a second), so esbuild and
// uPlot are development dependencies. Nothing is fetched from a CDN; the report inlines the same two files.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: string | Uint8Array;
  type: string;
}

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The page shell: no inline script (the server's CSP allows only 'self' scripts); app.js builds the rest. */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>resnorm dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="app.css">
<script src="app.js" defer></script>
</head>
<body><div id="app"></div></body>
</html>
`;

export interface PageBundle {
  js: string;
  css: string;
}

let bundled: Promise<PageBundle> | null = null;

/** esbuild's options for the page: one definition for the build script and the in-memory bundle. */
export const PAGE_BUILD = {
  absWorkingDir: root,
  entryPoints: [{ in: 'src/dashboard/page/main.ts', out: 'app' }],
  bundle: true,
  // A classic script, not a module: the report inlines it, and a file:// page runs it the same way.
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'silent',
} as const;

/** Where the package's build puts the bundled page, beside the compiled module (dist/dashboard/page/). */
const PREBUILT = { js: new URL('./page/app.js', import.meta.url), css: new URL('./page/app.css', import.meta.url) };

/** The prebuilt page, or null when this module runs from the sources (no dist/ beside it). */
async function prebuilt(): Promise<PageBundle | null> {
  if (!import.meta.url.endsWith('.js')) return null;
  try {
    const [js, css] = await Promise.all([readFile(PREBUILT.js, 'utf8'), readFile(PREBUILT.css, 'utf8')]);
    return { js, css };
  } catch (e) {
    throw new Error(`the dashboard page's files are missing beside ${fileURLToPath(import.meta.url)} (${(e as Error).message}); reinstall resnorm, or run \`npm run build\` in its checkout`);
  }
}

/** app.js and app.css, read or built once per process. */
export function pageBundle(): Promise<PageBundle> {
  bundled ??= (async () => {
    const ready = await prebuilt();
    if (ready) return ready;
    const { build } = await import('esbuild');
    const out = await build({ ...PAGE_BUILD, entryPoints: [...PAGE_BUILD.entryPoints], outdir: '/', write: false });
    const js = out.outputFiles.find((f) => f.path.endsWith('.js'));
    const css = out.outputFiles.find((f) => f.path.endsWith('.css'));
    if (!js || !css) throw new Error(`the dashboard page's bundle lacks ${js ? 'app.css' : 'app.js'}`);
    return { js: js.text, css: css.text };
  })().catch((e: unknown) => {
    bundled = null; // a later request tries again
    throw e;
  });
  return bundled;
}

export async function dashboardAssets(): Promise<Map<string, Asset>> {
  const { js, css } = await pageBundle();
  return new Map<string, Asset>([
    ['/', { body: INDEX_HTML, type: 'text/html; charset=utf-8' }],
    ['/app.js', { body: js, type: 'text/javascript; charset=utf-8' }],
    ['/app.css', { body: css, type: 'text/css; charset=utf-8' }],
  ]);
}
