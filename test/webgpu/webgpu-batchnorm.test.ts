// The WebGPU backend's fused BatchNorm (wgsl-batchnorm.ts) in headless chromium on SwiftShader
// (batchnorm-page.ts): beside the reference backend on awkward (outer, C, inner) layouts (inner = 1
// and > 1, C = 1, C prime, channels not a multiple of the workgroup, a ±1e3 offset, with and without
// γ, β, dγ, dβ) forward (≤ 1e-5) and backward (≤ 1e-4), bit for bit the same when run again; and the
// BatchNorm2d and residual block fixtures of test/fixtures/conv through it. Skipped, saying why, where
// /usr/bin/chromium is absent (.ci/run installs it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, skipChromium, type ChromiumPage } from './chromium-page.ts';
import type { BatchNormReport, BnCheck } from './batchnorm-page.ts';

const MODULE_FIXTURES = ['conv/batch_norm2d.safetensors', 'conv/residual_block_identity.safetensors', 'conv/residual_block_projection.safetensors'];

describe.skipIf(skipChromium())('the WebGPU backend’s fused BatchNorm (chromium, SwiftShader)', () => {
  let page: ChromiumPage;
  let report: BatchNormReport;

  beforeAll(async () => {
    page = await openPage('test/webgpu/batchnorm-page.ts', MODULE_FIXTURES);
    report = await page.call('runBatchNorm', MODULE_FIXTURES);
  }, 600_000);

  afterAll(async () => {
    await page?.close();
  });

  const worst = (checks: BnCheck[]) => {
    const w = new Map<string, number>();
    for (const c of checks) w.set(c.check, Math.max(w.get(c.check) ?? 0, c.err));
    return [...w].map(([k, e]) => `${k} ${e.toExponential(1)}`).join('; ');
  };

  it('runs on SwiftShader', () => {
    expect(report.adapter).toMatch(/swiftshader/i);
  });

  it('forward and backward beside the reference backend on awkward layouts, bit for bit the same when run again', () => {
    console.log(`BatchNorm kernels, worst error per check over ${report.kernels.length} checks: ${worst(report.kernels)}`);
    const offset = report.kernels.filter((c) => /[+-]1000/.test(c.case));
    console.log(`with a ±1e3 offset: ${worst(offset)}`);
    const bad = report.kernels.filter((c) => !(c.err <= c.bound));
    expect(bad, JSON.stringify(bad, null, 1)).toEqual([]);
    expect(new Set(report.kernels.map((c) => c.case)).size).toBe(12);
    expect(offset.length).toBeGreaterThan(0);
  });

  it('BatchNorm2d and the residual block against PyTorch, through the fused kernels', () => {
    console.log(`modules, worst error per check: ${worst(report.modules)}; fused calls ${JSON.stringify(report.calls)}`);
    const bad = report.modules.filter((c) => !(c.err <= c.bound));
    expect(bad, JSON.stringify(bad, null, 1)).toEqual([]);
    expect(new Set(report.modules.map((c) => c.case)).size).toBe(3);
    expect(report.calls.batchNormForward).toBeGreaterThan(0);
    expect(report.calls.batchNormBackward).toBeGreaterThan(0);
  });
});
