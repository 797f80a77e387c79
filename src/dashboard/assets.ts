// The dashboard page's files: index.html, app.js (the page and uPlot, one bundle) and app.css (ours and
// uPlot's). The package's build (scripts/build-assets.ts) bundles them into dist/dashboard/page/, and
// the compiled server reads them there; run from the TypeScript sources (tests, a checkout without a
// build) they are bundled in memory with esbuild when first asked for (about a second), so esbuild and
// uPlot are development dependencies. Nothing is fetched from a CDN; the report inlines the same two files.

import { fileURLToPath } from 'node:url';
import { bundledFiles, type Asset } from './bundled-files.ts';

export type { Asset } from './bundled-files.ts';

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

const files = bundledFiles(import.meta.url, ['app.js', 'app.css'], "the dashboard page", async () => {
  const { build } = await import('esbuild');
  const out = await build({ ...PAGE_BUILD, entryPoints: [...PAGE_BUILD.entryPoints], outdir: '/', write: false });
  const js = out.outputFiles.find((f) => f.path.endsWith('.js'));
  const css = out.outputFiles.find((f) => f.path.endsWith('.css'));
  if (!js || !css) throw new Error(`the dashboard page's bundle lacks ${js ? 'app.css' : 'app.js'}`);
  return { 'app.js': js.text, 'app.css': css.text };
});

/** app.js and app.css, read or built once per process. */
export async function pageBundle(): Promise<PageBundle> {
  const f = await files();
  return { js: f['app.js'], css: f['app.css'] };
}

export async function dashboardAssets(): Promise<Map<string, Asset>> {
  const { js, css } = await pageBundle();
  return new Map<string, Asset>([
    ['/', { body: INDEX_HTML, type: 'text/html; charset=utf-8' }],
    ['/app.js', { body: js, type: 'text/javascript; charset=utf-8' }],
    ['/app.css', { body: css, type: 'text/css; charset=utf-8' }],
  ]);
}
