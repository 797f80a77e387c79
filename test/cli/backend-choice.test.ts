// `--backend auto`: the pure rule (decideAuto) on given timings, the timing of a model's captured
// training steps, and the Node path here, where there is no WebGPU (no Dawn): wasm, nothing measured.
// The measured path on a real adapter (SwiftShader) runs in chromium: test/webgpu/webgpu-kernels.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWasmBackend } from '../../src/backend/wasm/index.ts';
import { AUTO_TIMED_STEPS, AUTO_WEBGPU_FRACTION, decideAuto, median, timeTrainingSteps } from '../../src/cli/backend-auto.ts';
import { selectBackend, settleAuto } from '../../src/cli/backend-choice.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';
import { getDefaultBackend } from '../../src/tensor/backend-registry.ts';
import { modelConfigOf, parseTrainConfig } from '../../src/train/config.ts';

describe('decideAuto, the rule', () => {
  it('takes WebGPU only when its median step is below 0.9× wasm’s', () => {
    expect(AUTO_WEBGPU_FRACTION).toBe(0.9);
    expect(decideAuto([10, 10, 10], [8.5, 8.5, 8.5]).backend).toBe('webgpu');
    expect(decideAuto([10, 10, 10], [9.5, 9.5, 9.5]).backend).toBe('wasm');
    expect(decideAuto([10, 10, 10], [9, 9, 9]).backend, 'exactly 0.9×: not below').toBe('wasm');
    expect(decideAuto([10, 10, 10], [20, 20, 20]).backend).toBe('wasm');
  });

  it('judges medians, so one slow step does not decide', () => {
    expect(decideAuto([10, 10, 10, 10, 10], [5, 5, 500, 5, 5]).backend).toBe('webgpu');
    expect(decideAuto([10, 1000, 10, 10, 10], [9.5, 9.5, 9.5, 9.5, 9.5]).backend).toBe('wasm');
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('says both figures and the ratio', () => {
    const d = decideAuto([20, 20, 20], [5, 5, 5]);
    expect(d).toMatchObject({ backend: 'webgpu', wasmMs: 20, webgpuMs: 5, fraction: 0.9 });
    expect(d.reason).toBe("auto: webgpu (median training step of this model: webgpu 5.0 ms, wasm 20.0 ms, 0.25× wasm's; WebGPU is taken below 0.9×)");
  });

  it('is wasm without WebGPU timings (no adapter) and with timings that are not numbers', () => {
    const none = decideAuto([], null, 0.9, 'WebGPU found no adapter');
    expect(none).toMatchObject({ backend: 'wasm', webgpuMs: null });
    expect(none.reason).toBe('auto: wasm (WebGPU found no adapter; nothing measured)');
    expect(decideAuto([10], [NaN]).backend).toBe('wasm');
    expect(decideAuto([10], []).backend).toBe('wasm');
  });
});

describe('timeTrainingSteps', () => {
  it(`times ${AUTO_TIMED_STEPS} captured steps of the model after warm-up, and frees what it made`, async () => {
    const be = await createWasmBackend({ threads: 1 });
    const before = be.memoryStats().liveBuffers;
    const c = parseTrainConfig({ nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8, batchSize: 2 });
    const ms = await timeTrainingSteps(be, { model: modelConfigOf(c, 11), batchSize: 2 });
    expect(ms).toHaveLength(AUTO_TIMED_STEPS);
    for (const t of ms) expect(t).toBeGreaterThan(0);
    expect(be.memoryStats().liveBuffers).toBe(before);
  });
});

describe('selectBackend auto in Node without WebGPU', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is the wasm backend, measuring nothing and saying nothing', async () => {
    const said = vi.spyOn(console, 'error').mockImplementation(() => {});
    const be = await selectBackend('auto', '1');
    expect(be.name).toMatch(/^wasm/);
    expect(said).not.toHaveBeenCalled();
  });

  it('settles on wasm, saying nothing, where no WebGPU can be made', async () => {
    const said = vi.spyOn(console, 'error').mockImplementation(() => {});
    const be = await selectBackend('auto', '1');
    const probe = { model: modelConfigOf(parseTrainConfig({ nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8 }), 11), batchSize: 2 };
    expect(await settleAuto(probe, be)).toBe(be);
    expect(said).not.toHaveBeenCalled();
  });
});

describe('settleAuto: auto weighs WebGPU on the model the command trains', () => {
  afterEach(() => vi.restoreAllMocks());
  const c = parseTrainConfig({ nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 8, batchSize: 3 });
  const probe = { model: modelConfigOf(c, 11), batchSize: 3 };

  it("times the given model on both, prints the decision with that model's shape, and keeps the faster (here wasm against ref posing as WebGPU)", async () => {
    const said = vi.spyOn(console, 'error').mockImplementation(() => {});
    const wasm = await selectBackend('auto', '1');
    const slow = Object.assign(createRefBackend(), { dispose: vi.fn(async () => {}) });
    const chosen = await settleAuto(probe, wasm, async () => slow);
    expect(chosen).toBe(wasm);
    expect(getDefaultBackend()).toBe(wasm);
    expect(slow.dispose).toHaveBeenCalled(); // the loser
    expect(said).toHaveBeenCalledTimes(1);
    const line = String(said.mock.calls[0][0]);
    expect(line).toMatch(/^auto: wasm \(median training step of this model: webgpu [\d.]+ ms, wasm [\d.]+ ms/);
    expect(line).toContain("timed on this run's model: 1 layers, width 16, 2 heads, block 8, vocabulary 11, batch 3");
  });

  it('does nothing when the backend was named (no auto pending), or a second time', async () => {
    const make = vi.fn(async () => Object.assign(createRefBackend(), { dispose: async () => {} }));
    const named = await selectBackend('wasm', '1');
    expect(await settleAuto(probe, named, make)).toBe(named);
    const auto = await selectBackend('auto', '1');
    vi.spyOn(console, 'error').mockImplementation(() => {});
    await settleAuto(probe, auto, async () => { throw new Error('no adapter'); });
    expect(await settleAuto(probe, auto, make)).toBe(auto);
    expect(make).not.toHaveBeenCalled();
  });
});
