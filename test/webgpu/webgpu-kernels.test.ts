// The WebGPU backend's fused kernels beside the reference backend on awkward shapes and layouts
// (kernels-page.ts), in headless chromium on SwiftShader: attention forward (≤ 1e-5), backward (≤ 1e-4)
// and inference (≤ 1e-5), each backward bit for bit the same when run again; dropout's mask bit for bit
// the reference's for the same seed; convolution and pooling against every PyTorch op fixture of
// test/fixtures/conv (forward ≤ 1e-5, backward ≤ 1e-4) and beside the reference on awkward windows;
// a small ResNet-style net trained to the reference's losses, captured bit for bit; --backend auto's
// measured path, whose decision must follow its own figures and the rule. Skipped, saying why,
// where /usr/bin/chromium is absent (.ci/run installs it).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, ROOT, skipChromium, type ChromiumPage } from './chromium-page.ts';
import { AUTO_WEBGPU_FRACTION } from '../../src/cli/backend-auto.ts';
import type { KernelCheck, KernelReport } from './kernels-page.ts';

describe.skipIf(skipChromium())('the WebGPU backend’s fused kernels beside the reference backend (chromium, SwiftShader)', () => {
  let page: ChromiumPage;
  let report: KernelReport;

  beforeAll(async () => {
    const conv = readdirSync(join(ROOT, 'test', 'fixtures', 'conv')).filter((f) => f.endsWith('.safetensors')).sort().map((f) => `conv/${f}`);
    page = await openPage('test/webgpu/kernels-page.ts', conv);
    report = await page.call('runKernels', conv);
  }, 600_000);

  afterAll(async () => {
    await page?.close();
  });

  it('runs on SwiftShader', () => {
    expect(report.adapter).toMatch(/swiftshader/i);
  });

  it('attention: forward, lse, backward and inference over dense, packed, cross and cached layouts', () => {
    const bound = (c: KernelCheck) => (/^(out|lse)/.test(c.check) ? 1e-5 : c.check.includes('bit for bit') ? 0 : 1e-4);
    const worst = new Map<string, number>();
    for (const c of report.attention) worst.set(c.check, Math.max(worst.get(c.check) ?? 0, c.err));
    console.log(`attention, worst error per check over ${report.attention.length} checks: ${[...worst].map(([k, e]) => `${k} ${e.toExponential(1)}`).join('; ')}`);
    const bad = report.attention.filter((c) => !(c.err <= bound(c)));
    expect(bad, JSON.stringify(bad, null, 1)).toEqual([]);
    expect(new Set(report.attention.map((c) => c.case)).size).toBe(16);
    // 13 training cases (out, lse's two checks, the gradient buffers and their reruns) and 4 inference ones.
    expect(report.attention.length).toBeGreaterThanOrEqual(13 * 5 + 4);
  });

  it('dropout: the reference backend’s mask bit for bit for the same seed, out = x·mask, about p dropped; a capture refuses it', () => {
    expect(report.dropout.length).toBe(16);
    console.log(`dropout: ${report.dropout.map((c) => `${c.case}: ${c.check} ${c.err}`).join('; ')}`);
    // out: x·(1/(1 − p)) rounded once from float64 on the reference, x·mask in float32 here: within 2⁻²² of the largest.
    const bad = report.dropout.filter((c) => !(c.err <= (c.check === 'out' ? 2 ** -22 : c.check.startsWith('share') ? 0.03 : 0)));
    expect(bad, JSON.stringify(bad, null, 1)).toEqual([]);
  });

  it('convolution and pooling: every PyTorch op fixture of test/fixtures/conv, forward (≤ 1e-5) and backward (≤ 1e-4)', () => {
    const bad = report.convFixtures.filter((c) => !(c.err <= (c.check === 'out' ? 1e-5 : 1e-4)));
    expect(bad, JSON.stringify(bad, null, 1)).toEqual([]);
    expect(new Set(report.convFixtures.map((c) => c.case)).size).toBe(14);
  });

  it('convolution and pooling beside the reference backend on awkward windows (strides, padding, 1×1, odd planes, ties and NaNs: argmax equal)', () => {
    const worst = new Map<string, number>();
    for (const c of report.windows) worst.set(c.check, Math.max(worst.get(c.check) ?? 0, c.err));
    console.log(`windows, worst error per check over ${report.windows.length} checks: ${[...worst].map(([k, e]) => `${k} ${e.toExponential(1)}`).join('; ')}`);
    const bound = (c: KernelCheck) => (c.check.startsWith('max argmax') || c.check.includes('NaN') ? 0 : c.check.endsWith('out') ? 1e-5 : 1e-4);
    const bad = report.windows.filter((c) => !(c.err <= bound(c)));
    expect(bad, JSON.stringify(bad, null, 1)).toEqual([]);
    expect(new Set(report.windows.map((c) => c.case)).size).toBe(8);
  });

  it('trains a small ResNet-style net (conv, fused BatchNorm, max pool, residual blocks) to the reference’s losses, and its captured replay equals eager bit for bit', () => {
    const { webgpu, captured, ref, eagerReason, batchNormCalls, error } = report.convNet;
    expect(error).toBeUndefined();
    console.log(`conv net losses: webgpu ${webgpu.join(' ')}; ref ${ref.join(' ')}; fused BatchNorm calls ${JSON.stringify(batchNormCalls)}`);
    // Six BatchNorms (the stem's, two per block, the projection's) in each of the four steps.
    expect(batchNormCalls).toEqual({ batchNormForward: 24, batchNormBackward: 24 });
    expect(webgpu).toHaveLength(4);
    for (let i = 0; i < 4; i++) expect(Math.abs(webgpu[i] - ref[i]), `step ${i + 1}`).toBeLessThan(1e-4 * Math.max(1, ref[i]));
    expect(eagerReason).toBeNull();
    expect(captured).toEqual(webgpu);
  });

  it('generates from a KV cache (attentionInference) the reference backend’s tokens (same seed)', () => {
    const { webgpu, ref, error } = report.generation;
    expect(error).toBeUndefined();
    console.log(`sampled tokens: webgpu ${webgpu.join(' ')}; ref ${ref.join(' ')}`);
    expect(webgpu).toHaveLength(24);
    expect(new Set(webgpu).size).toBeGreaterThan(5);
    expect(webgpu).toEqual(ref);
  });

  it('--backend auto: measures the model on wasm and WebGPU, and decides by the rule on what it measured', () => {
    const d = report.auto;
    if ('error' in d) throw new Error(d.error);
    console.log(d.reason);
    expect(d.wasmMs).toBeGreaterThan(0);
    expect(d.webgpuMs).toBeGreaterThan(0);
    // Not asserted by design: whichever the figures say (on SwiftShader, a CPU emulation, expect wasm).
    expect(d.backend).toBe(d.webgpuMs! < AUTO_WEBGPU_FRACTION * d.wasmMs ? 'webgpu' : 'wasm');
    expect(d.reason).toContain(`webgpu ${d.webgpuMs!.toFixed(1)} ms, wasm ${d.wasmMs.toFixed(1)} ms`);
  });
});
