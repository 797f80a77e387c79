// The engine behind the worker protocol, driven directly in Node (the browser test drives it through a
// real Web Worker): events in order, 1 and 2 threads bit-identical, samples, stop, and errors as events.
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.ts';
import type { EngineEvent, EngineRequest, TrainSettings } from './protocol.ts';

const text = 'The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs.\n'.repeat(12);
// Wide enough that the matmuls pass the threading threshold, small enough to take a few ms a step.
const config: TrainSettings = { blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 64, batchSize: 4, maxIters: 4, warmupIters: 1, evalInterval: 1000, evalIters: 1, seed: 7 };

function harness(): { engine: Engine; events: EngineEvent[]; send: (r: EngineRequest) => Promise<void> } {
  const events: EngineEvent[] = [];
  const engine = new Engine((e) => events.push(e));
  return { engine, events, send: (r) => engine.receive(r) };
}

async function trainOn(threads: number): Promise<EngineEvent[]> {
  const { engine, events, send } = harness();
  try {
    await send({ type: 'init', id: 1, backend: { threads } });
    await send({ type: 'train', id: 2, text, config });
    await send({ type: 'sample', id: 3, prompt: 'The ', options: { maxNewTokens: 20, seed: 1 } });
    return events;
  } finally {
    await engine.dispose();
  }
}

describe('Engine', () => {
  it('trains with progress events, gives bit-identical runs on 1 and 2 threads, and samples', async () => {
    const one = await trainOn(1);
    expect(one.map((e) => e.type)).toEqual(['ready', 'step', 'step', 'step', 'step', 'eval', 'trained', ...Array<string>(20).fill('token'), 'sampled']);
    const trained = one.find((e) => e.type === 'trained')!;
    if (trained.type !== 'trained') throw new Error('unreachable');
    expect(trained.result.steps).toBe(4);
    expect(trained.result.losses[0]).toBeCloseTo(Math.log(trained.result.vocabSize), 0);
    const sampled = one.at(-1)!;
    expect(sampled.type === 'sampled' && [...sampled.text].length).toBe(20);
    const two = await trainOn(2);
    expect(two.find((e) => e.type === 'ready')).toMatchObject({ info: { threads: 2 } });
    const strip = (es: EngineEvent[]) => es.filter((e) => e.type !== 'ready').map((e) => (e.type === 'step' ? { ...e, ms: 0 } : e.type === 'trained' ? { ...e.result, ms: 0 } : e));
    expect(strip(two)).toEqual(strip(one));
  });

  it('retrains in the same memory: the previous model and its captured step are released', async () => {
    const { engine, send } = harness();
    try {
      await send({ type: 'init', id: 1, backend: { threads: 1 } });
      const reserved = async (id: number) => {
        await send({ type: 'train', id, text, config });
        return (engine as unknown as { backend: { info(): { reservedBytes: number } } }).backend.info().reservedBytes; // white-box
      };
      const first = await reserved(2);
      expect(await reserved(3)).toBe(first);
      expect(await reserved(4)).toBe(first);
    } finally {
      await engine.dispose();
    }
  });

  it('stops a training between steps, and answers bad requests with error events', async () => {
    const { engine, events, send } = harness();
    await send({ type: 'sample', id: 1, prompt: '', options: { maxNewTokens: 1 } });
    expect(events.pop()).toMatchObject({ type: 'error', id: 1, message: expect.stringContaining("send 'train' first") });
    await send({ type: 'train', id: 2, text, config });
    expect(events.pop()).toMatchObject({ type: 'error', id: 2, message: expect.stringContaining("send 'init' first") });
    await send({ type: 'init', id: 3, backend: {} });
    await send({ type: 'train', id: 4, text, config: { ...config, nHead: 3 } });
    expect(events.pop()).toMatchObject({ type: 'error', id: 4, message: expect.stringContaining('not divisible by nHead') });
    const running = send({ type: 'train', id: 5, text, config: { ...config, maxIters: 1000 } });
    while (!events.some((e) => e.type === 'step')) await new Promise((r) => setTimeout(r, 1));
    await send({ type: 'stop', id: 6 });
    await running;
    const done = events.at(-1)!;
    expect(done.type === 'trained' && done.result.steps).toBeLessThan(10);
    await send({ type: 'sample', id: 7, prompt: 'Z', options: { maxNewTokens: 1 } });
    expect(events.pop()).toMatchObject({ type: 'error', id: 7, message: expect.stringContaining('not in the vocabulary') });
    await engine.dispose();
  });
});
