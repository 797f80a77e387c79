// Crash safety of a run's checkpoints, tested the way SQLite tests its pager: a scenario of saves (a new
// run, checkpoints with pruning, a move from format 1) is replayed once per mutating file operation, with
// a crash right after that operation — plain, or a power loss that also tears unsynced file data — and
// with the disk filling up or permission vanishing there. After each, the directory is opened afresh: it
// must hold the last committed checkpoint, and training resumed from it must reach the same weights, bit
// for bit, as a run that was never interrupted.

import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeRunFs } from '../../src/cli/node-run-fs.ts';
import { CharTokenizer } from '../../src/data/char-tokenizer.ts';
import { splitTrainVal } from '../../src/data/corpus.ts';
import type { RunFs } from '../../src/io/run-fs.ts';
import { CheckpointWriteError, RunStore, RunStoreError, type KeepPolicy } from '../../src/io/run-store.ts';
import { GPT } from '../../src/models/gpt.ts';
import { encodeCheckpoint } from '../../src/train/checkpoint.ts';
import { modelConfigOf, parseTrainConfig } from '../../src/train/config.ts';
import { loadCheckpoint, resumeTrainer, saveCheckpoint } from '../../src/train/run-checkpoints.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { FaultFs, SimulatedCrash, type FaultPlan } from '../helpers/fault-fs.ts';

const text = 'the quick brown fox jumps over the lazy dog; '.repeat(30);
const tok = CharTokenizer.fromText(text);
const data = splitTrainVal(Int32Array.from(tok.encode(text)));
// Dropout on, so the dropout generator's state must survive too.
const config = parseTrainConfig({ blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, dropout: 0.1, batchSize: 2, maxIters: 12, warmupIters: 2, evalInterval: 100, evalIters: 1, seed: 5 });
const FINAL = 12;
const keep: KeepPolicy = { last: 1, best: true };

const fresh = () => new Trainer(GPT.create(modelConfigOf(config, tok.vocabSize), { seed: config.seed }), config, data);
const weightsOf = async (t: Trainer) => Buffer.from((await t.model.backend.read(t.model.store!.data)).buffer);

const straight = fresh();
await straight.run(FINAL);
const expected = await weightsOf(straight);

// Real files, but fsync is a no-op: the FaultFs still numbers every sync and models what a power loss
// takes from unsynced files, and a real fsync per operation made this suite about twice as slow.
const diskFs: RunFs = { ...nodeRunFs, syncFile: async () => undefined, syncDir: async () => undefined };
const root = mkdtempSync(join(tmpdir(), 'resnorm-crash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let runs = 0;

/** A new run: step 0 saved at once, then checkpoints at 4 (evaluated, so the best) and 8, keeping the last 1 and the best. */
async function newRunScenario(fs: RunFs, dir: string): Promise<void> {
  const store = await RunStore.create(fs, dir, 'gpt');
  const t = fresh();
  await saveCheckpoint(store, t, tok, { valLoss: null, keep });
  await t.run(4);
  await saveCheckpoint(store, t, tok, { valLoss: 2.5, keep });
  await t.run(8);
  await saveCheckpoint(store, t, tok, { valLoss: 2.75, keep });
}

/** A format-1 run (five loose files at step 4) resumed and saved at step 8, which moves it to checkpoints/. */
async function legacyScenario(fs: RunFs, dir: string): Promise<void> {
  const store = await RunStore.open(fs, dir);
  const t = fresh();
  resumeTrainer(t, await loadCheckpoint(store, 'latest', { forTraining: true }));
  await t.run(8);
  await saveCheckpoint(store, t, tok, { valLoss: null, keep });
}

const legacyFiles = await (async () => {
  const t = fresh();
  await t.run(4);
  return encodeCheckpoint(t, tok);
})();

function prepare(scenario: 'new' | 'legacy'): string {
  const dir = join(root, `run-${runs++}`);
  mkdirSync(dir);
  if (scenario === 'legacy') for (const [name, bytes] of Object.entries(legacyFiles)) writeFileSync(join(dir, name), bytes);
  return dir;
}

const scenarios = { new: newRunScenario, legacy: legacyScenario };

/** Opens the directory as the next process would, and resumes to FINAL; returns the step it resumed from. */
async function recoverAndFinish(dir: string): Promise<number | null> {
  const store = await RunStore.open(nodeRunFs, dir).catch((e: unknown) => {
    // A crash before run.json was committed leaves a directory that holds no run: nothing to resume.
    if (e instanceof RunStoreError && /is not a resnorm run directory/.test(e.message)) return null;
    throw e;
  });
  if (!store) return null;
  if ((await store.checkpoints()).length === 0) return null;
  await store.collectGarbage();
  const ckpt = await loadCheckpoint(store, 'latest', { forTraining: true });
  const t = fresh();
  resumeTrainer(t, ckpt);
  await t.run(FINAL);
  expect((await weightsOf(t)).equals(expected), `resumed from step ${ckpt.entry.step}`).toBe(true);
  // The store is whole again: it takes the next save, and only committed checkpoints remain.
  await saveCheckpoint(store, t, tok, { valLoss: null, keep });
  expect((await store.select('latest')).step).toBe(FINAL);
  const listed = (await store.checkpoints()).map((e) => e.dir.replace('checkpoints/', ''));
  expect(readdirSync(join(dir, 'checkpoints')).filter((n) => n !== 'index.json').sort()).toEqual(listed.sort());
  return ckpt.entry.step;
}

/** The step of the last checkpoint whose index rename took effect, given the operations that did. */
function committedStep(done: readonly string[], before: number | null): number | null {
  let step = before;
  let dir: string | null = null;
  for (const line of done) {
    const made = /^mkdir .*checkpoints\/step-(\d+)/.exec(line);
    if (made) dir = made[1];
    if (/^rename .*index\.json\.tmp -> /.test(line)) step = Number(dir);
  }
  return step;
}

async function countOps(scenario: 'new' | 'legacy'): Promise<string[]> {
  const fs = new FaultFs(diskFs);
  await scenarios[scenario](fs, prepare(scenario));
  return fs.log;
}

for (const scenario of ['new', 'legacy'] as const) {
  describe(`crash safety: ${scenario === 'new' ? 'a new run saving and pruning' : 'moving a format-1 run'}`, async () => {
    const log = await countOps(scenario);
    const before = scenario === 'legacy' ? 4 : null;

    it(`has every mutating operation numbered (${log.length} of them)`, () => {
      expect(log.filter((l) => l.startsWith('syncFile')).length).toBeGreaterThan(5);
      expect(log.some((l) => /^rename .*index\.json/.test(l))).toBe(true);
    });

    for (const powerLoss of [false, true]) {
      it(`recovers from a ${powerLoss ? 'power loss' : 'crash'} after each of the ${log.length} operations`, async () => {
        const seen = new Set<number | null>();
        for (let k = 0; k < log.length; k++) {
          const dir = prepare(scenario);
          const fs = new FaultFs(diskFs, { crashAfter: k, powerLoss, seed: k });
          // The crash surfaces as SimulatedCrash, except in pruning, whose failures are ignored by design.
          await scenarios[scenario](fs, dir).catch((e: unknown) => {
            if (!(e instanceof SimulatedCrash)) throw e;
          });
          expect(fs.crashed, `operation ${k}: ${log[k]}`).toBe(true);
          const resumedFrom = await recoverAndFinish(dir);
          // Never older than what was committed when the crash came (k + 1 operations had run).
          expect(resumedFrom, `crash after operation ${k}: ${log[k]}`).toBe(committedStep(fs.done, before));
          seen.add(resumedFrom);
        }
        expect([...seen].sort()).toEqual(scenario === 'new' ? [0, 4, 8, null].sort() : [4, 8]);
      });
    }

    for (const failCode of ['ENOSPC', 'EACCES'] as const) {
      it(`keeps the previous checkpoint when a save meets ${failCode} at any operation`, async () => {
        for (let k = 0; k < log.length; k++) {
          const dir = prepare(scenario);
          const plan: FaultPlan = { failFrom: k, failCode };
          let error: unknown = null;
          const fs = new FaultFs(diskFs, plan);
          await scenarios[scenario](fs, dir).catch((e: unknown) => (error = e));
          if (error !== null && !(error instanceof CheckpointWriteError)) {
            // Only creating the run may fail otherwise (before any checkpoint exists): with the fs's own error.
            expect(scenario, `operation ${k}: ${String(error)}`).toBe('new');
            expect((error as { code?: string }).code).toBe(failCode);
          }
          if (error instanceof CheckpointWriteError) expect(error.message).toMatch(failCode === 'ENOSPC' ? /disk is full/ : /permission denied/);
          const resumedFrom = await recoverAndFinish(dir);
          // A failure after the index rename (while pruning) only leaves debris: that save counts.
          expect(resumedFrom, `${failCode} from operation ${k}: ${log[k]}`).toBe(committedStep(fs.done, before));
        }
      });
    }
  });
}
