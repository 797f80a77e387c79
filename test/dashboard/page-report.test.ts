// The report's HTML (src/dashboard/report.ts) and `resnorm report`: the data embedded so that no run
// text can end its <script> element, the page's script allowed by its CSP hash alone, and the command's
// one-line errors. That it renders from file:// is test/browser/dashboard-report.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildReport, inlineCode, scriptJson } from '../../src/dashboard/report.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/page-runs/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'resnorm-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('embedding', () => {
  it('writes JSON with no < > & or U+2028/9 in it, which parses back to the same value', () => {
    const v = { text: '</script><script>alert(1)</script><!-- & \u2028\u2029 <img src=x onerror=alert(2)>', n: [1, null] };
    const s = scriptJson(v);
    expect(s).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(s)).toEqual(v);
  });

  it('escapes what would end or change a script or style element in inlined code, keeping its meaning', () => {
    const code = 'const a = "</script>", b = `</SCRIPT >`, c = /<\\/script/, d = "<!--";';
    const out = inlineCode(code);
    expect(out).not.toMatch(/<\/script|<!--/i);
    expect(new Function(`${out}; return [a, b, c.source, d];`)()).toEqual(new Function(`${code}; return [a, b, c.source, d];`)());
    expect(inlineCode('a::after{content:"</style>"}')).toBe('a::after{content:"<\\/style>"}');
  });
});

describe('the report', () => {
  it('holds every line of the runs’ logs, the runs’ configs, the page, and a CSP that allows only that page', async () => {
    const { html, data } = await buildReport([fixtures], { now: new Date('2026-01-02T03:04:05.678Z') });
    expect(data.generated).toBe('2026-01-02T03:04:05Z');
    expect(data.runs.map((r) => r.name)).toEqual(['post-ln', 'pre-ln']);
    expect((data.runs[1].config as { train: { placement: string } }).train.placement).toBe('pre');
    const lines = (run: string, f: string) => readFileSync(join(fixtures, run, f), 'utf8').trim().split('\n');
    const pre = data.runs[1].id;
    expect(data.files.find((f) => f.run === pre && f.file === 'diagnostics.jsonl')!.lines).toEqual(lines('pre-ln', 'diagnostics.jsonl'));
    const json = /<script type="application\/json" id="resnorm-data">(.*?)<\/script>/s.exec(html)![1];
    expect(JSON.parse(json)).toEqual(data);
    const script = /<script>(.*)<\/script>\n<\/body>/s.exec(html)![1];
    const hash = createHash('sha256').update(script).digest('base64');
    expect(html).toContain(`script-src 'sha256-${hash}'`);
    expect(html).toContain("connect-src 'none'");
    expect(html.match(/<script/g)).toHaveLength(2);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('leaves out a log’s unfinished last line (a trainer writing it now)', async () => {
    const run = join(tmp, 'live');
    cpSync(join(fixtures, 'post-ln'), run, { recursive: true });
    appendFileSync(join(run, 'metrics.jsonl'), '{"step":82,"trainLoss":3.1,"lr":0.0');
    const { data } = await buildReport([run]);
    const metrics = data.files.find((f) => f.file === 'metrics.jsonl')!.lines;
    expect(metrics).toHaveLength(44);
    expect(metrics.at(-1)).toContain('"step":80');
  });
});

describe('resnorm report', () => {
  const cli = (...args: string[]) => spawnSync('node', [join(root, 'bin/resnorm.js'), 'report', ...args], { cwd: tmp, encoding: 'utf8' });

  it('writes report.html by default, and says what it holds', () => {
    const out = execFileSync('node', [join(root, 'bin/resnorm.js'), 'report', join(fixtures, 'pre-ln'), join(fixtures, 'post-ln')], { cwd: tmp, encoding: 'utf8' });
    expect(out).toMatch(/^report: 2 runs \(pre-ln, post-ln\), 139 log records, \d+ KB\nwrote report\.html; it opens offline in any browser\n$/);
    expect(readFileSync(join(tmp, 'report.html'), 'utf8')).toMatch(/^<!doctype html>/);
  });

  it('refuses, in one line, a missing directory, a file, a directory without runs, and --out on a directory', () => {
    const cases: [string[], RegExp][] = [
      [['nope'], /^resnorm: nope: no such directory; pass run directories or folders of runs/],
      [[join(fixtures, 'pre-ln', 'run.json')], /is a file; pass run directories/],
      [[join(fixtures, 'pre-ln', 'checkpoints', 'step-00000080')], /^resnorm: no runs in .*: a run directory holds run\.json/],
      [[join(fixtures, 'pre-ln'), '--out', tmp], /^resnorm: --out .* is a directory; pass the name of the HTML file/],
    ];
    for (const [args, message] of cases) {
      const r = cli(...args);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
