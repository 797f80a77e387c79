// `resnorm report`'s HTML: one self-contained file with the dashboard's page inlined (script, styles)
// and the runs' logs embedded as JSON, so it opens from disk, offline, and can be attached to an email.
// The page replays the embedded logs as the live page's events (source.ts), so both show the same charts.
//
// Safety. The data sits in <script type="application/json">, which the browser never runs; every `<`,
// `>` and `&` in it (and U+2028/9) is written as a \u escape, so no text in a sample — not even
// `</script><script>…` — can end that element. The page's own script is allowed by a CSP hash and
// nothing else can run or connect anywhere (default-src 'none', connect-src 'none').

import { createHash } from 'node:crypto';
import { pageBundle } from './assets.ts';
import { LOG_FILES, RunTable, openInRun, runFilePath, type LogFile, type RunInfo } from './runs-scan.ts';

export interface ReportData {
  /** When the report was made (ISO 8601). */
  generated: string;
  runs: RunInfo[];
  files: { run: string; file: LogFile; lines: string[] }[];
}

/** JSON for inside a <script> element: no `<`, `>` or `&` at all (so no `</script` or `<!--`), nor U+2028/9. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Code or CSS for inside a <script> or <style> element: `</script`, `</style` and `<!--` would end or
 * change the element, so the `<` of each is escaped (`<\/script` means `</script` in a JavaScript string,
 * template or regex, the only places a bundle can hold it; `<\!--` and `<\/style` likewise in CSS strings).
 */
export function inlineCode(code: string): string {
  return code.replace(/<(\/(?:script|style)|!--)/gi, (_m, rest: string) => `<\\${rest}`);
}

/** The lines of a run's log: complete lines only (a trainer's unfinished last line is left out). */
async function logLines(runReal: string, file: LogFile): Promise<string[]> {
  const rel = await runFilePath(runReal, file);
  const fh = rel === null ? null : await openInRun(runReal, rel);
  if (!fh) return [];
  try {
    const text = (await fh.readFile()).toString('utf8');
    const end = text.lastIndexOf('\n');
    return end < 0 ? [] : text.slice(0, end).split('\n').filter((l) => l.trim() !== '');
  } finally {
    await fh.close();
  }
}

/** The runs under some directories (run directories, or folders of runs) and their logs. */
export async function reportData(runDirs: readonly string[], now = new Date(), log: (line: string) => void = () => {}): Promise<ReportData> {
  const table = new RunTable(runDirs, log);
  await table.scan();
  const files: ReportData['files'] = [];
  for (const run of table.runs) for (const file of LOG_FILES) files.push({ run: run.info.id, file, lines: await logLines(run.real, file) });
  return { generated: now.toISOString().replace(/\.\d+Z$/, 'Z'), runs: table.infos(), files };
}

export async function reportHtml(data: ReportData): Promise<string> {
  const { js, css } = await pageBundle();
  const script = inlineCode(js);
  const hash = createHash('sha256').update(script, 'utf8').digest('base64');
  const csp = `default-src 'none'; script-src 'sha256-${hash}'; style-src 'unsafe-inline'; img-src data: blob:; connect-src 'none'; base-uri 'none'; form-action 'none'`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>resnorm report</title>',
    '<link rel="icon" href="data:,">',
    `<style>${inlineCode(css)}</style>`,
    '</head>',
    '<body>',
    '<div id="app"></div>',
    `<script type="application/json" id="resnorm-data">${scriptJson(data)}</script>`,
    `<script>${script}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The report of the runs under `runDirs`, and what it holds. */
export async function buildReport(runDirs: readonly string[], o: { now?: Date; log?: (line: string) => void } = {}): Promise<{ html: string; data: ReportData }> {
  const data = await reportData(runDirs, o.now, o.log);
  return { html: await reportHtml(data), data };
}
