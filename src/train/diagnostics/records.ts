// The records of diagnostics.jsonl, as docs/run-directory.md documents them: one typed union, so the
// writer (the trainer), the readers (dashboard, report, TensorBoard export) and the docs agree.

export interface ProbeRecord {
  kind: 'probe';
  step: number;
  sequences: number;
  length: number;
  source: string;
  seed: number;
}

export interface ParamStat {
  name: string;
  gradNorm: number;
  norm: number;
  updateRatio: number;
}

export interface BlockStat {
  name: string;
  rmsIn: number;
  rmsOut: number;
}

export interface SublayerStat {
  name: string;
  /** The block that holds the residual branch ('' at the top level). */
  block: string;
  rmsIn: number;
  rmsUpdate: number;
  ratio: number;
}

export interface NormStat {
  name: string;
  inMean: number;
  inStd: number;
  outRms: number;
  gainMean: number | null;
  gainMin: number | null;
  gainMax: number | null;
}

export interface AttentionStat {
  name: string;
  /** Per head, in nats. */
  entropy: number[];
}

/** What the probe pass saw: the activations' part of a step record. */
export interface ActivationStats {
  blocks: BlockStat[];
  sublayers: SublayerStat[];
  norms: NormStat[];
  attention: AttentionStat[];
}

export interface StepRecord extends ActivationStats {
  kind: 'step';
  step: number;
  wallTime: number;
  loss: number;
  gradNorm: number;
  params: ParamStat[];
  layers: ParamStat[];
}

export interface AttentionMap {
  name: string;
  /** heads[h][t] = weights of query t over keys 0…t. */
  heads: number[][][];
}

export interface AttentionRecord {
  kind: 'attention';
  step: number;
  tokens: string[];
  maps: AttentionMap[];
}

export type SpikeMetric = 'loss' | 'gradNorm';

export interface SpikeRecord {
  kind: 'spike';
  step: number;
  metric: SpikeMetric;
  value: number;
  baseline: number;
  threshold: number;
}

export type DiagnosticsRecord = ProbeRecord | StepRecord | AttentionRecord | SpikeRecord;
