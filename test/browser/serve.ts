// Bundles the engine worker and the test page with esbuild (in memory) and serves them, with the wasm
// kernels, from 127.0.0.1 with the COOP/COEP headers that make a page cross-origin isolated (needed for
// SharedArrayBuffer, so for shared WebAssembly memory).
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));

const PAGE = '<!doctype html><meta charset="utf-8"><title>resnorm browser test</title><link rel="icon" href="data:,"><script type="module" src="./page.js"></script>';

export async function bundle(): Promise<Map<string, { body: Uint8Array | string; type: string }>> {
  const out = await build({
    absWorkingDir: root,
    entryPoints: { page: 'test/browser/page.ts', 'engine-worker': 'src/worker/engine-worker.ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // Reached only under Node (behind isNode() checks), by dynamic import.
    external: ['node:*'],
    outdir: '/',
    write: false,
    logLevel: 'silent',
  });
  const files = new Map<string, { body: Uint8Array | string; type: string }>([['/', { body: PAGE, type: 'text/html' }]]);
  for (const f of out.outputFiles) files.set(f.path, { body: f.contents, type: 'text/javascript' });
  for (const name of ['kernels-simd.wasm', 'kernels-relaxed.wasm']) {
    files.set(`/${name}`, { body: await readFile(`${root}src/backend/wasm/${name}`), type: 'application/wasm' });
  }
  return files;
}

/** Serves the bundle on an ephemeral port; resolves with its base URL and the server (close it after). */
export async function serve(): Promise<{ url: string; server: Server }> {
  const files = await bundle();
  const server = createServer((req, res) => {
    const f = files.get(new URL(req.url ?? '/', 'http://x').pathname);
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-store' };
    if (!f) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': f.type }).end(f.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}
