// Diagnostics of a training run (docs/run-directory.md, diagnostics.jsonl). The design, chosen so that
// training steps stay captured: activation statistics come from a no-grad pass over a fixed probe
// batch between steps, observed through the modules' taps (src/nn/taps.ts); gradient and update
// statistics come from the flat buffers around the step's eager update (param-stats.ts). Neither
// touches the captured program, so a replayed step and an eager one give the same records, and
// diagnostics on or off give the same weights (no random number is drawn, dropout is off in the probe).

import type { Module } from '../../nn/module.ts';
import type { ParameterStore } from '../../nn/parameter-store.ts';
import { withTaps } from '../../nn/taps.ts';
import { noGrad } from '../../tensor/autograd.ts';
import { readAfterScope } from '../../tensor/arena.ts';
import { ActivationProbe } from './activation-probe.ts';
import { ParamInspection } from './param-stats.ts';
import type { AttentionRecord, DiagnosticsRecord, ProbeRecord, StepRecord } from './records.ts';
import { SpikeDetector } from './spikes.ts';

export type * from './records.ts';
export { layerOf, ParamInspection } from './param-stats.ts';

/**
 * The record with every non-integer number cut to 6 significant digits: float32 carries about 7, and
 * the file stays a third of the size. Integers (steps) are kept whole; non-finite values stay as they
 * are (JSON writes them as null).
 */
function roundDeep<T>(v: T): T {
  if (typeof v === 'number') return (Number.isInteger(v) || !Number.isFinite(v) ? v : Number(v.toPrecision(6))) as T;
  if (Array.isArray(v)) return v.map((x: unknown) => roundDeep(x)) as T;
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, roundDeep(x)])) as T;
  return v;
}

/** Sequences in the probe batch: enough to average over, few enough to cost ~1/10 of a step's forward. */
export const PROBE_SEQUENCES = 4;
/** Tokens of the attention maps kept at evaluation steps (the maps grow as its square). */
export const MAP_TOKENS = 32;

export interface ProbeBatch {
  /** (sequences, length) token ids, row-major. */
  ids: Int32Array;
  sequences: number;
  length: number;
  source: string;
  seed: number;
}

export interface DiagnosticsOptions {
  /** The model's parameters and gradients. */
  store: ParameterStore;
  /** The model, for its module names and train/eval mode. */
  model: Module;
  probe: ProbeBatch;
  /** Runs the model's forward on the probe's ids; what it returns is ignored (taps observe it). */
  forward: (probe: ProbeBatch) => unknown;
  /** Text of one token, for the attention maps' labels. */
  decodeToken?: (id: number) => string;
}

export class Diagnostics {
  private readonly spikes = new SpikeDetector();

  constructor(readonly o: DiagnosticsOptions) {}

  probeRecord(step: number): ProbeRecord {
    const { sequences, length, source, seed } = this.o.probe;
    return { kind: 'probe', step, sequences, length, source, seed };
  }

  /** Every step's loss and gradient norm go through here: the spikes among them. */
  observe(step: number, loss: number, gradNorm: number): DiagnosticsRecord[] {
    return this.spikes.observe(step, loss, gradNorm);
  }

  /** Starts a diagnostics step: pass the inspection to the step, then give it to `record`. */
  inspect(): ParamInspection {
    return new ParamInspection(this.o.store);
  }

  /** The step record (and the attention maps, when asked) after a step inspected by `inspection`. */
  async record(inspection: ParamInspection, m: { step: number; wallTime: number; loss: number; gradNorm: number }, withMaps: boolean): Promise<DiagnosticsRecord[]> {
    const { params, layers } = await inspection.read();
    const probe = new ActivationProbe(this.o.model, withMaps ? MAP_TOKENS : 0);
    const model = this.o.model;
    const values = await model.inEvalMode(() =>
      readAfterScope(() =>
        noGrad(() =>
          withTaps(probe, () => {
            this.o.forward(this.o.probe);
            return probe.collected();
          }),
        ),
      ),
    );
    const { stats, maps } = probe.decode(values);
    const step = roundDeep<StepRecord>({ kind: 'step', step: m.step, wallTime: m.wallTime, loss: m.loss, gradNorm: m.gradNorm, params, layers, ...stats });
    const out: DiagnosticsRecord[] = [step];
    if (withMaps && maps.length > 0) {
      const L = Math.min(MAP_TOKENS, this.o.probe.length);
      const ids = Array.from(this.o.probe.ids.subarray(0, L));
      const attention: AttentionRecord = { kind: 'attention', step: m.step, tokens: ids.map((id) => this.o.decodeToken?.(id) ?? String(id)), maps };
      out.push(attention);
    }
    return out;
  }
}
