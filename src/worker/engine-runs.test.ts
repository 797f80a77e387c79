// Run directories through the engine, against the real `resnorm` command (bin/resnorm.js, the compiled
// build): a run trained and saved by the engine, packed by the tar writer and unpacked by the system's
// tar, is read by `resnorm info`, `sample` and `eval`, and samples what the engine samples; a run made by
// `resnorm train` loads into the engine from its files and samples what `resnorm sample` prints.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { treeEntries, writeTar } from '../io/tar.ts';
import { Engine } from './engine.ts';
import type { EngineEvent, EngineRequest, RunFile, TrainSettings } from './protocol.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'resnorm.js');
const tmp = mkdtempSync(join(tmpdir(), 'resnorm-engine-runs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const text = 'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.\n'.repeat(10);
const config: TrainSettings = { blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 32, batchSize: 4, maxIters: 12, warmupIters: 2, evalInterval: 6, evalIters: 2, logInterval: 3, seed: 5 };
const sampleArgs = { prompt: 'It is', tokens: 40, seed: 11, temperature: 0.9 };

function resnorm(cwd: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`resnorm ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

/** Every file under `dir`, named as an <input webkitdirectory> names them (from the picked folder's name on). */
function picked(dir: string): RunFile[] {
  const out: RunFile[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ path: relative(join(dir, '..'), p), data: new Uint8Array(readFileSync(p)) });
    }
  };
  walk(dir);
  return out;
}

/** A request before the harness numbers it. */
type Unnumbered<R = EngineRequest> = R extends unknown ? Omit<R, 'id'> : never;

class Harness {
  readonly events: EngineEvent[] = [];
  readonly engine = new Engine((e) => this.events.push(e));
  private id = 1;
  /** Sends a request and returns the events that answered it. */
  async send(req: Unnumbered): Promise<EngineEvent[]> {
    const id = this.id++;
    await this.engine.receive({ ...req, id } as EngineRequest);
    return this.events.filter((e) => e.id === id);
  }
  async last<T extends EngineEvent['type']>(req: Unnumbered, type: T): Promise<Extract<EngineEvent, { type: T }>> {
    const es = await this.send(req);
    const e = es.at(-1)!;
    if (e.type !== type) throw new Error(`expected '${type}', got ${JSON.stringify(e).slice(0, 300)}`);
    return e as Extract<EngineEvent, { type: T }>;
  }
}

describe('run directories through the engine and the CLI', () => {
  const h = new Harness();
  beforeAll(async () => {
    await h.last({ type: 'init', backend: { threads: 1 } }, 'ready');
  });
  afterAll(() => h.engine.dispose());

  it('trains with a sample after each evaluation, saves a run the CLI reads, samples as the CLI does', async () => {
    const trainEvents = await h.send({ type: 'train', text, config, evalSample: { options: { maxNewTokens: 16, seed: 2 } } });
    const generated = trainEvents.filter((e) => e.type === 'generated');
    expect(generated.map((e) => e.type === 'generated' && e.step)).toEqual([6, 12]);
    // Each sample's tokens come between its evaluation and its 'generated' event, and spell it.
    const i = trainEvents.findIndex((e) => e.type === 'eval' && e.step === 12);
    const tokens = trainEvents.slice(i + 1, -2);
    expect(tokens.every((e) => e.type === 'token')).toBe(true);
    expect(tokens.map((e) => (e.type === 'token' ? e.text : '')).join('')).toBe(generated[1].type === 'generated' && generated[1].text);
    expect(generated[1].type === 'generated' && generated[1].prompt).toBe('\n');

    const saved = await h.last({ type: 'save' }, 'saved');
    const name = saved.run.dir;
    expect(name).toMatch(/^resnorm-demo-\d{8}-\d{6}$/);
    expect(saved.run).toMatchObject({ step: 12, tokenizer: 'char', model: { nLayer: 2, nHead: 2, nEmbd: 32, blockSize: 32 }, design: 'pre-LN (layernorm), plain residual' });
    expect(saved.files.map((f) => f.path)).toEqual(
      ['checkpoints/index.json', ...['config.json', 'model.safetensors', 'optimizer.safetensors', 'state.json', 'tokenizer.json'].map((f) => `checkpoints/step-00000012/${f}`), 'data.txt', 'metrics.jsonl', 'run.json', 'samples.jsonl'].map((p) => `${name}/${p}`),
    );

    const dir = join(tmp, 'unpacked');
    mkdirSync(dir);
    writeFileSync(join(tmp, 'run.tar'), writeTar(treeEntries(saved.files)));
    execFileSync('tar', ['-xf', join(tmp, 'run.tar'), '-C', dir]);
    const info = resnorm(dir, 'info', name);
    expect(info).toMatch(/^steps +12 of 12$/m);
    expect(info).toMatch(new RegExp(`^data +${name}/data\\.txt$`, 'm'));
    expect(info).toMatch(/^val loss +last \d\.\d{4}/m);
    expect(info).toMatch(/step +12 +val loss \d\.\d{4} .*\(best, latest\)/); // evaluated at the saved step
    expect(readFileSync(join(dir, name, 'data.txt'), 'utf8')).toBe(text);
    const metrics = readFileSync(join(dir, name, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; valLoss?: number });
    expect(metrics.map((m) => m.step)).toEqual([3, 6, 6, 9, 12, 12]);
    expect(metrics.filter((m) => m.valLoss !== undefined).map((m) => m.step)).toEqual([6, 12]);
    // eval finds the text through config.json's data, from the folder the run was unpacked in.
    expect(resnorm(dir, 'eval', name)).toMatch(/^perplexity +\d/m);

    const cli = resnorm(dir, '--threads', '1', 'sample', name, '--prompt', sampleArgs.prompt, '--tokens', String(sampleArgs.tokens), '--seed', String(sampleArgs.seed), '--temperature', String(sampleArgs.temperature));
    const ours = await h.last({ type: 'sample', prompt: sampleArgs.prompt, options: { maxNewTokens: sampleArgs.tokens, seed: sampleArgs.seed, temperature: sampleArgs.temperature } }, 'sampled');
    expect([...ours.text]).toHaveLength(sampleArgs.tokens);
    expect(cli).toBe(`${sampleArgs.prompt}${ours.text}\n`);
    // And it resumes under the CLI, on its own text, with the optimizer state it was saved with.
    resnorm(dir, '--threads', '1', 'train', '--resume', name, '--max-iters', '15');
    expect(resnorm(dir, 'info', name)).toMatch(/^steps +15 of 15$/m);
  });

  it('loads a run made by resnorm train from its files and samples what resnorm sample prints', async () => {
    const runs = join(tmp, 'cli');
    mkdirSync(runs);
    writeFileSync(join(runs, 'text.txt'), text);
    resnorm(runs, '--threads', '1', 'train', '--data', 'text.txt', '--n-layer', '2', '--n-head', '2', '--n-embd', '32', '--block-size', '32', '--max-iters', '5', '--eval-iters', '2', '--out', 'made');
    const loaded = await h.last({ type: 'load', files: picked(join(runs, 'made')) }, 'loaded');
    expect(loaded.run).toMatchObject({ dir: 'made', step: 5, tokenizer: 'char', model: { nLayer: 2, nEmbd: 32 } });
    const cli = resnorm(runs, 'sample', 'made', '--prompt', sampleArgs.prompt, '--tokens', String(sampleArgs.tokens), '--seed', String(sampleArgs.seed), '--temperature', String(sampleArgs.temperature));
    const ours = await h.last({ type: 'sample', prompt: sampleArgs.prompt, options: { maxNewTokens: sampleArgs.tokens, seed: sampleArgs.seed, temperature: sampleArgs.temperature } }, 'sampled');
    expect(cli).toBe(`${sampleArgs.prompt}${ours.text}\n`);
    // An empty prompt starts where resnorm sample starts without --prompt.
    const cliDefault = resnorm(runs, 'sample', 'made', '--tokens', '10', '--seed', '3');
    const oursDefault = await h.last({ type: 'sample', prompt: '', options: { maxNewTokens: 10, seed: 3, temperature: 0.8 } }, 'sampled');
    expect(cliDefault).toBe(`\n${oursDefault.text}\n`);
    // Loaded, not trained here: nothing to save.
    expect(await h.last({ type: 'save' }, 'error')).toMatchObject({ message: expect.stringContaining('already saved') });
  });

  it('refuses files that hold no run, or several, saying what to pick', async () => {
    const file = (path: string, s = '{}') => ({ path, data: new TextEncoder().encode(s) });
    expect((await h.last({ type: 'load', files: [file('notes/a.txt')] }, 'error')).message).toMatch(/None of the 1 files picked belongs to a resnorm run: pick a run directory itself/);
    expect((await h.last({ type: 'load', files: [file('runs/a/run.json'), file('runs/b/run.json')] }, 'error')).message).toMatch(/holds 2 runs \(runs\/a, runs\/b\); pick one run directory/);
    const manifest = JSON.stringify({ format: 'resnorm-run', version: 2, kind: 'image' });
    expect((await h.last({ type: 'load', files: [file('r/run.json', manifest)] }, 'error')).message).toMatch(/r is a image run; this page generates text from language-model runs/);
    expect((await h.last({ type: 'load', files: [file('r/run.json', '{"format": "resnorm-run", "version": 2, "kind": "gpt"}')] }, 'error')).message).toMatch(/has no complete checkpoint/);
  });
});
