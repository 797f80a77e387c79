// The dashboard page's files, built in memory with esbuild when first asked for (about a second; then
// cached for the process): index.html, app.js (the page and uPlot, one bundle) and app.css (ours and
// uPlot's). Nothing is fetched from a CDN; the report inlines the same two files.

import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

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

/** app.js and app.css, built once per process. */
export function pageBundle(): Promise<PageBundle> {
  bundled ??= (async () => {
    const out = await build({
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
      outdir: '/',
      write: false,
      logLevel: 'silent',
    });
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
