// The WebGPU speed script, for a machine with a GPU (issue: WebGPU backend): sgemm GFLOP/s at 1024–4096
// as a share of the GPU's fp32 peak, and training tokens/s for the default config, the large one and a
// GPT-2-small-sized one (12 layers, width 768, block 1024), beside PyTorch CUDA (fp32, TF32 off) on the
// same machine when it has it. The page runs in Debian's chromium on the machine's GPU (Vulkan);
// --swiftshader runs a small smoke version on SwiftShader instead, to check the script on a machine
// without a GPU (its figures mean nothing). Writes bench/results/webgpu.json.
//
//   node --import tsx bench/webgpu.ts [--peak-tflops 67] [--swiftshader] [--chromium PATH]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import type { SpeedCase, SpeedReport } from './webgpu/page.ts';

const root = join(import.meta.dirname, '..');
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const smoke = process.argv.includes('--swiftshader');
const peakTflops = arg('--peak-tflops') ? Number(arg('--peak-tflops')) : null;
const browserPath = arg('--chromium') ?? '/usr/bin/chromium';
if (!existsSync(browserPath)) throw new Error(`no chromium at ${browserPath}: apt-get install chromium, or pass --chromium PATH`);

const sizes = smoke ? [64, 128] : [1024, 2048, 4096];
const cases: SpeedCase[] = smoke
  ? [{ name: 'tiny (L2 C32 T16 B4)', config: { vocabSize: 65, nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 16 }, batch: 4, steps: 3 }]
  : [
      { name: 'default (L4 C128 T64 B12)', config: { vocabSize: 65 }, batch: 12, steps: 50 },
      { name: 'large (L6 H6 C384 T256 B8)', config: { vocabSize: 65, nLayer: 6, nHead: 6, nEmbd: 384, blockSize: 256 }, batch: 8, steps: 20 },
      { name: 'GPT-2 small size (L12 H12 C768 T1024 B4, V 50257)', config: { vocabSize: 50257, nLayer: 12, nHead: 12, nEmbd: 768, blockSize: 1024 }, batch: 4, steps: 5 },
    ];

const bundle = await build({ absWorkingDir: root, entryPoints: ['bench/webgpu/page.ts'], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', external: ['node:*'], write: false, logLevel: 'silent' });
const js = bundle.outputFiles[0].contents;
const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (path === '/') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><title>webgpu speed</title><script type="module" src="page.js"></script>');
  if (path === '/page.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(js);
  res.writeHead(404).end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const gpuFlags = smoke ? ['--use-webgpu-adapter=swiftshader'] : ['--ignore-gpu-blocklist', '--enable-gpu'];
const browser = await chromium.launch({ executablePath: browserPath, args: ['--headless=new', '--no-sandbox', '--no-first-run', '--enable-unsafe-webgpu', '--enable-features=Vulkan', ...gpuFlags] });
let report: SpeedReport;
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${String(e)}`));
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await page.waitForFunction(() => 'runSpeed' in globalThis);
  report = await page.evaluate(([s, c]) => (globalThis as unknown as { runSpeed: (s: number[], c: SpeedCase[]) => Promise<SpeedReport> }).runSpeed(s, c), [sizes, cases] as const);
} finally {
  await browser.close();
  server.close();
}

type TorchCuda = { available: false; reason: string } | { available: true; device: string; torch: string; sgemm: SpeedReport['sgemm']; train: { name: string; msPerStep: number; tokensPerSec: number }[] };
const py = spawnSync('/usr/bin/python3', [join(root, 'bench', 'webgpu_torch.py'), JSON.stringify({ sizes, cases })], { encoding: 'utf8', timeout: 1_800_000 });
const torch: TorchCuda = py.status === 0 ? (JSON.parse(py.stdout) as TorchCuda) : { available: false, reason: `bench/webgpu_torch.py failed: ${py.stderr.trim().split('\n').at(-1) ?? py.status}` };

console.log(`WebGPU adapter: ${report.adapter}${smoke ? ' (SwiftShader smoke run: the figures mean nothing)' : ''}; PyTorch CUDA: ${torch.available ? `${torch.device}, torch ${torch.torch}` : torch.reason}`);
for (const s of report.sgemm) {
  const t = torch.available ? torch.sgemm.find((x) => x.n === s.n) : undefined;
  const share = peakTflops ? `, ${((100 * s.gflops) / (peakTflops * 1000)).toFixed(1)}% of ${peakTflops} TFLOP/s fp32` : '';
  console.log(`sgemm ${s.n}: ${s.gflops.toPrecision(3)} GFLOP/s${share}${t ? `; PyTorch CUDA ${t.gflops.toFixed(0)} GFLOP/s (${(s.gflops / t.gflops).toFixed(2)}×)` : ''}`);
}
for (const r of report.train) {
  const t = torch.available ? torch.train.find((x) => x.name === r.name) : undefined;
  console.log(`train ${r.name}: ${r.tokensPerSec.toFixed(0)} tokens/s (${r.msPerStep.toFixed(1)} ms/step, ${r.eagerReason ? `eager: ${r.eagerReason}` : 'captured'})${t ? `; PyTorch CUDA ${t.tokensPerSec.toFixed(0)} tokens/s (${(r.tokensPerSec / t.tokensPerSec).toFixed(2)}×)` : ''}`);
}
const big = report.sgemm.find((s) => s.n === 4096);
const gpt2 = report.train.find((r) => r.name.startsWith('GPT-2'));
const gpt2Torch = torch.available && gpt2 ? torch.train.find((x) => x.name === gpt2.name) : undefined;
if (!smoke) {
  console.log(`goal sgemm 4096 >= 50% of the fp32 peak: ${big && peakTflops ? (big.gflops >= 0.5 * peakTflops * 1000 ? 'MET' : 'NOT MET') : 'not judged (pass --peak-tflops)'}`);
  console.log(`goal GPT-2-small training >= 0.5x PyTorch eager CUDA: ${gpt2 && gpt2Torch ? (gpt2.tokensPerSec >= 0.5 * gpt2Torch.tokensPerSec ? 'MET' : 'NOT MET') : 'not judged (no PyTorch CUDA here)'}`);
}
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
const out = join(root, 'bench', 'results', smoke ? 'webgpu-swiftshader.json' : 'webgpu.json');
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), smoke, peakTflops, webgpu: report, torch }, null, 2) + '\n');
console.log(`written: ${out}`);
