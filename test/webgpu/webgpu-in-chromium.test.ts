// The WebGPU backend's conformance without a GPU: headless Debian chromium with SwiftShader as its WebGPU
// adapter (a CPU emulation: it proves correctness, not speed), driven by playwright-core, on a page
// served from 127.0.0.1 (WebGPU needs a secure context). Every op fixture of the parity suite runs
// forward and backward at the parity suite's bounds (with the fused kernels and with the core alone), the
// whole-model fixtures (a GPT per placement and per design: one pass, then the AdamW trajectory), and a
// tiny GPT trains to the reference backend's losses. Skipped, saying why, where /usr/bin/chromium is absent (.ci/run installs it).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, ROOT, skipChromium, type ChromiumPage } from './chromium-page.ts';
import type { WebGpuReport } from './page.ts';

const FIXTURE_DIRS = ['ops', 'attention'];
const MODEL_DIRS = ['gpt', 'designs'];

describe.skipIf(skipChromium())('the WebGPU backend in chromium (SwiftShader)', () => {
  let page: ChromiumPage;
  let report: WebGpuReport;

  beforeAll(async () => {
    const list = (dirs: string[]) => dirs.flatMap((d) => readdirSync(join(ROOT, 'test', 'fixtures', d)).filter((f) => f.endsWith('.safetensors')).sort().map((f) => `${d}/${f}`));
    const files = list(FIXTURE_DIRS);
    const modelFiles = list(MODEL_DIRS);
    page = await openPage('test/webgpu/page.ts', [...files, ...modelFiles]);
    report = await page.call('runWebGpu', files, modelFiles);
  }, 600_000);

  afterAll(async () => {
    await page?.close();
  });

  it('runs on a WebGPU adapter', () => {
    expect(report.adapter).toMatch(/swiftshader/i);
    expect(report.ops.length).toBeGreaterThan(50);
  });

  const judge = (ops: WebGpuReport['ops']) => ops.filter((o) => o.error || !(o.forward <= 1e-5) || Object.values(o.grads).some((g) => !(g <= 1e-4)));

  it('matches every PyTorch op fixture forward (≤ 1e-5) and backward (≤ 1e-4) with its fused kernels', () => {
    const bad = judge(report.ops);
    expect(bad, JSON.stringify(bad, null, 1)).toEqual([]);
  });

  it('matches them too with its core alone, every layer composed from the core kernels', () => {
    expect(report.coreOps.length).toBe(report.ops.length);
    const bad = judge(report.coreOps);
    expect(bad, JSON.stringify(bad, null, 1)).toEqual([]);
  });

  it('multiplies as the reference backend does on awkward shapes, through both matmul kernels (≤ 1e-6)', () => {
    expect(report.matmul.length).toBe(24);
    const bad = report.matmul.filter((c) => !(c.err <= 1e-6));
    expect(bad, JSON.stringify(bad)).toEqual([]);
  });

  it('matches the whole-model fixtures: a GPT per placement and per design, one pass and its AdamW trajectory', () => {
    expect(new Set(report.models.map((m) => m.case)).size).toBe(22);
    const bad = report.models.filter((m) => !(m.err <= m.bound));
    expect(bad, JSON.stringify(bad, null, 1)).toEqual([]);
    // The BatchNorm design through the fused kernels, not the composition (which gives the same numbers).
    console.log(`fused BatchNorm calls per model fixture: ${JSON.stringify(report.batchNormCalls)}`);
    expect(Object.keys(report.batchNormCalls)).toEqual(['batchnorm']);
  });

  it('trains a tiny GPT to the reference backend’s losses (same seed), and the loss falls', () => {
    const { webgpu, ref, error } = report.training;
    expect(error).toBeUndefined();
    console.log(`webgpu losses ${webgpu.map((l) => l.toFixed(6)).join(' ')}\nref    losses ${ref.map((l) => l.toFixed(6)).join(' ')}`);
    expect(webgpu).toHaveLength(6);
    for (let i = 0; i < 6; i++) expect(Math.abs(webgpu[i] - ref[i]), `step ${i + 1}`).toBeLessThan(2e-4 * Math.max(1, ref[i]));
    expect(webgpu[5]).toBeLessThan(webgpu[0]);
  });

  it('captures the training step and replays it: the same losses bit for bit, and no buffer made after the first steps', () => {
    const { webgpu, captured, eagerReason, buffersCreated, liveBuffers } = report.training;
    console.log(`captured: ${captured.join(' ')}; GPU buffers made by step ${buffersCreated.join(' ')}; live ${liveBuffers.join(' ')}`);
    expect(eagerReason).toBeNull();
    expect(captured).toEqual(webgpu);
    // Step 1 runs eagerly to capture (TrainStep), step 2 is the capture; from step 3 on, replays only.
    expect(new Set(buffersCreated.slice(2)).size, `GPU buffers made by each step: ${buffersCreated}`).toBe(1);
    expect(new Set(liveBuffers.slice(2)).size, `live buffers after each step: ${liveBuffers}`).toBe(1);
  });
});
