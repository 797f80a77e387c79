// What the dashboard's and the demo's page files share: a served file, and the rule that finds a page's
// bundle. The package's build writes the bundle beside the compiled module (dist/…/page/), and the
// compiled server reads it there; run from the TypeScript sources (tests, a checkout without a build)
// it is bundled in memory with esbuild when first asked for, once per process, and a failure is
// forgotten so that the next request tries again.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: string | Uint8Array;
  type: string;
}

/**
 * `names` read from page/ beside the module at `moduleUrl` when it is compiled (a .js file), else
 * `bundle()`; `what` names the page in the error for a build whose files are missing.
 */
export function bundledFiles<K extends string>(moduleUrl: string, names: readonly K[], what: string, bundle: () => Promise<Record<K, string>>): () => Promise<Record<K, string>> {
  let files: Promise<Record<K, string>> | null = null;
  const load = async (): Promise<Record<K, string>> => {
    if (!moduleUrl.endsWith('.js')) return bundle();
    try {
      const texts = await Promise.all(names.map((f) => readFile(new URL(`./page/${f}`, moduleUrl), 'utf8')));
      return Object.fromEntries(names.map((f, i) => [f, texts[i]])) as Record<K, string>;
    } catch (e) {
      throw new Error(`${what}'s files are missing beside ${fileURLToPath(moduleUrl)} (${(e as Error).message}); reinstall resnorm, or run \`npm run build\` in its checkout`);
    }
  };
  return () => {
    files ??= load().catch((e: unknown) => {
      files = null; // a later request tries again
      throw e;
    });
    return files;
  };
}
