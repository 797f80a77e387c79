// What each residual and normalization design costs (docs/designs.md): the default config's captured
// training step with one design changed, beside the default design (pre-LN, LayerNorm, plain residual)
// timed alternately in the same run. Designs built from composed ops (DyT, BatchNorm, hyper-connections,
// QK-norm, value residual) show here how much slower they are than the fused LayerNorm path.

import type { Backend } from '../src/backend/backend.ts';
import { GPT, type GPTConfig } from '../src/models/gpt.ts';
import { designProblem, PLACEMENTS, RESIDUALS } from '../src/nn/design.ts';
import { NORM_KINDS } from '../src/nn/norm.ts';
import { AdamW } from '../src/optim/adamw.ts';
import { TrainStep } from '../src/train/step.ts';
import { Rng } from '../src/tensor/index.ts';
import type { Row } from './report.ts';
import type { StepCase } from './train-step.ts';

/** Every norm kind, placement and residual rule once, each with the first setting of the others that accepts it. */
export function designVariants(base: GPTConfig): { name: string; config: GPTConfig }[] {
  const accepted = (c: GPTConfig) => designProblem(c) === null;
  const out: { name: string; config: GPTConfig }[] = [];
  for (const norm of NORM_KINDS) if (norm !== base.norm) out.push({ name: `norm ${norm}`, config: { ...base, norm } });
  out.push({ name: 'qk-norm', config: { ...base, qkNorm: true } });
  for (const placement of PLACEMENTS) if (placement !== base.placement) out.push({ name: `placement ${placement}`, config: { ...base, placement } });
  for (const residual of RESIDUALS) {
    if (residual === base.residual) continue;
    const config = [...PLACEMENTS.map((placement) => ({ ...base, residual, placement })), { ...base, residual, placement: 'none' as const, norm: 'none' as const }].find(accepted);
    if (config) out.push({ name: `residual ${residual} (${config.placement})`, config });
  }
  return out;
}

/** `make` gives each design a fresh backend of its own (so no design's memory slows another's), disposed after. */
export async function benchDesigns(make: () => Promise<(Backend & { dispose(): Promise<void> }) | null>, c: StepCase, reps: number, label: string): Promise<Row[]> {
  const T = c.config.blockSize;
  const rng = new Rng(0);
  const ids = Int32Array.from({ length: c.batch * T }, () => rng.int(c.config.vocabSize));
  const stepperOf = async (config: GPTConfig) => {
    const backend = await make();
    if (!backend) return null;
    const model = GPT.create(config, { backend, seed: 0 });
    return { backend, stepper: new TrainStep(model, new AdamW(model.store!)) };
  };
  const base = await stepperOf(c.config);
  if (!base) return [];
  const time = async (s: TrainStep) => {
    const t0 = performance.now();
    await s.run(ids, ids, c.batch, T, { gradClip: 1 });
    return performance.now() - t0;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  for (let i = 0; i < 2; i++) await time(base.stepper);
  const rows: Row[] = [];
  for (const v of designVariants(c.config)) {
    const { backend, stepper } = (await stepperOf(v.config))!;
    for (let i = 0; i < 2; i++) await time(stepper); // capture and warm up
    const ours: number[] = [];
    const ref: number[] = [];
    for (let i = 0; i < reps; i++) {
      ref.push(await time(base.stepper));
      ours.push(await time(stepper));
    }
    rows.push({ section: 'designs', bench: `train step ${label}`, case: `${c.name}, ${v.name}`, value: median(ours), unit: 'ms/step', lowerIsBetter: true,
      reference: { name: 'pre-LN, LayerNorm, plain', value: median(ref) }, note: stepper.describe().split(' (')[0] });
    stepper.release();
    await backend.dispose();
  }
  base.stepper.release();
  await base.backend.dispose();
  return rows;
}
