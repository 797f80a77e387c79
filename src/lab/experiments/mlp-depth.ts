// Experiment 14: the residual MLP on Fashion-MNIST at depth 2, 4, 8 and 16 — the plain deep MLP, the
// residual one, and the residual one with LayerNorm or BatchNorm before each block — for which of
// them train, how fast (steps to 80% validation accuracy) and how well (test accuracy).

import type { Arm, Claim, Condition, Experiment } from '../index-types.ts';
import { ref } from './common.ts';

const DEPTHS = [2, 4, 8, 16];
const FAMILIES = {
  plain: { label: 'plain MLP', config: { residual: 'none', norm: 'none' } },
  res: { label: 'residual', config: { residual: 'plain', norm: 'none' } },
  'res-ln': { label: 'residual + LN', config: { residual: 'plain', norm: 'layernorm', placement: 'pre' } },
  'res-bn': { label: 'residual + BN', config: { residual: 'plain', norm: 'batchnorm', placement: 'pre' } },
} as const;
type Family = keyof typeof FAMILIES;
const FAMILY_IDS = Object.keys(FAMILIES) as Family[];

const id = (f: Family, L: number) => `d${L}-${f}`;
const arms: Arm[] = DEPTHS.flatMap((L) =>
  FAMILY_IDS.map((f) => ({ id: id(f, L), label: `L${L} ${FAMILIES[f].label}`, config: { depth: L, ...FAMILIES[f].config }, measures: ['init-gradients', 'train-gradients'] })),
);

/** Schedule shared by both modes: evaluations every 25 steps, so "steps to 80%" has that resolution. */
const schedule = { lr: 1e-3, minLr: 1e-4, evalInterval: 25, logInterval: 5, diagInterval: 0, sampleLength: 0 };
// Quick: a 300-step depth-16 job took 4–6 s on one core (measured before the run): 500 steps and
// the 48 jobs are a few minutes on two cores.
const quick = { ...schedule, hidden: 128, batchSize: 64, maxIters: 500, warmupIters: 20, evalIters: 16 };
const full = { ...schedule, hidden: 256, batchSize: 128, maxIters: 3000, warmupIters: 100, evalIters: 16 };

/** a's test accuracy below b's by more than 2 pooled sd and `minDiff` (accuracy: higher is better). */
const lessAccurate = (a: string, b: string, minDiff = 0.02): Condition => ({ kind: 'less', a: ref(a, 'finalAccuracy'), b: ref(b, 'finalAccuracy'), sd: 2, minDiff });
/** Deep not worse than shallow: the depth-2 accuracy at most `tolerance` above the depth-16 one. */
const notWorseDeep = (f: Family, tolerance = 0.01): Condition => ({ kind: 'atMost', a: ref(id(f, 2), 'finalAccuracy'), b: ref(id(f, 16), 'finalAccuracy'), tolerance });
/** a reaches 80% validation accuracy sooner than b, by more than 2 pooled sd and one evaluation (25 steps). */
const sooner = (a: string, b: string): Condition => ({ kind: 'less', a: ref(a, 'stepsTo80'), b: ref(b, 'stepsTo80'), sd: 2, minDiff: 25 });

const claims: Claim[] = [
  {
    id: 'shallow',
    text: 'At depth 2 the plain MLP does about as well as the residual one (within 1 point of test accuracy)',
    conditions: [{ kind: 'similar', a: ref(id('plain', 2), 'finalAccuracy'), b: ref(id('res', 2), 'finalAccuracy'), tolerance: 0.01 }],
    notes: {
      'not reproduced':
        "In the quick runs the 2-block plain MLP (six linear layers, no norm, torch's default init) trails the residual one by about 2 points of test accuracy and reaches 80% validation accuracy later (about 320 vs 175 steps): it starts from a signal shrunk some 300-fold and is still catching up after 500 steps. He et al.'s shallow plain net had BatchNorm; ours has nothing that rescales the signal. Whether the gap closes with more training is for the full mode (3,000 steps).",
    },
  },
  {
    id: 'degradation',
    text: 'The plain MLP degrades with depth: at depth 16 it ends clearly below its own accuracy at depth 2',
    conditions: [lessAccurate(id('plain', 16), id('plain', 2))],
    notes: {
      reproduced:
        "Reproduced, but through vanishing gradients, the cause He et al. rule out for their nets: without a norm, the plain MLP's first quarter of blocks gets about 3·10⁻⁸ of the last quarter's gradient at initialisation at depth 16 (2·10⁻⁴ at depth 8; the gradient columns), and at depth 16 it never leaves chance (10% test accuracy) in the quick budget. Its accuracy falls steadily with depth (the first figure). A plain MLP *with* BatchNorm, He et al.'s kind of plain net, is not an arm of this experiment, so the subtler degradation of a well-conditioned plain net is not tested here.",
    },
  },
  {
    id: 'shortcuts',
    text: 'At depth 16 the plain MLP ends clearly worse than every residual arm',
    conditions: [lessAccurate(id('plain', 16), id('res', 16)), lessAccurate(id('plain', 16), id('res-ln', 16)), lessAccurate(id('plain', 16), id('res-bn', 16))],
    notes: {
      reproduced:
        'Every residual arm, normalised or not, trains at depth 16 to about 84–85% test accuracy: here the shortcut alone is enough (the un-normalised residual arm\'s per-block gradients stay within a factor 1.5 from first block to last).',
    },
  },
  {
    id: 'normalised-depth',
    text: 'With LayerNorm or BatchNorm the residual MLP is not worse at depth 16 than at depth 2 (within 1 point)',
    conditions: [notWorseDeep('res-ln'), notWorseDeep('res-bn')],
    notes: {
      reproduced: 'So is the un-normalised residual arm (see the table): in this budget depth neither helps nor hurts a residual MLP by more than about a point.',
    },
  },
  {
    id: 'norm-faster',
    text: 'At depth 16 the normalised residual MLPs reach 80% validation accuracy in fewer steps than the un-normalised one',
    conditions: [sooner(id('res-ln', 16), id('res', 16)), sooner(id('res-bn', 16), id('res', 16))],
    notes: {
      inconclusive:
        "In the quick runs BatchNorm reached 80% sooner on average at depth 16 (125 vs 183 steps) and LayerNorm a little sooner (158), but the first crossing of a threshold by a validation accuracy measured on 1,024 images, which moves by 1–2 points between evaluations, is noisy: with 3 seeds neither difference clears 2 pooled sd. BN before LN before no norm holds at depths 2 and 4 too; at depth 8 LN was no faster than no norm. More seeds (`--seeds 10`) or the full mode would decide it.",
    },
  },
];

const byDepth = (metric: string, title: string, yLabel: string) =>
  ({ kind: 'sweep', title, metric, x: DEPTHS, groups: FAMILY_IDS.map((f) => ({ label: FAMILIES[f].label, arms: DEPTHS.map((L) => id(f, L)) })), xLabel: 'residual blocks (depth)', yLabel }) as const;
const atDepth = (L: number) => FAMILY_IDS.map((f) => id(f, L));

export const mlpDepth: Experiment = {
  name: 'mlp-depth',
  task: 'image',
  title: 'Plain, residual and normalised residual MLPs on Fashion-MNIST, depth 2 to 16',
  finding: 'a deep plain MLP degrades; shortcuts remove it, and LayerNorm or BatchNorm train the residual MLP faster',
  paper: {
    citation:
      'He, Zhang, Ren & Sun 2016, "Deep Residual Learning for Image Recognition" (CVPR); Ioffe & Szegedy 2015, "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift" (ICML); Ba, Kiros & Hinton 2016, "Layer Normalization" (arXiv:1607.06450)',
    found:
      'He et al. name the *degradation* problem: a deeper plain network trains to a higher training and test error than a shallower one (Figure 1: 56 vs 20 layers on CIFAR-10), which shortcuts remove — ImageNet top-1 error (Table 2): plain-18 27.94%, plain-34 28.54%; ResNet-18 27.88%, ResNet-34 25.03%. Shallow, the two are about equal (18 layers); deep, the residual net is better and improves with depth. Their plain nets have BatchNorm, and they argue that degradation is an optimisation difficulty, not vanishing gradients (§4.1). Ioffe & Szegedy report that BatchNorm speeds up training: on MNIST a 3-layer MLP with BN trains faster and reaches a higher test accuracy than without (Figure 1a), and a BN Inception reaches the baseline\'s 72.2% ImageNet accuracy in 14 times fewer steps (§4.2). Ba et al. propose LayerNorm, which normalises each example over its features instead of over the batch, and report faster convergence than the unnormalised baselines, mostly for recurrent networks; on permutation-invariant MNIST (a fully connected net) it trains faster than the baseline and is less sensitive to the batch size than BN (their Figure 6; we do not quote numbers from it), while for convolutional networks they found BN better than LN (§6.7).',
  },
  differences:
    'An MLP on flattened 28×28 Fashion-MNIST images, not a CNN on CIFAR-10 or ImageNet: 784 → hidden (ReLU) → `depth` blocks x ← x + F(N(x)) with F = Linear → ReLU → Linear → hidden → 10 classes, width 128 (full: 256); the plain arm drops the shortcut (x ← F(x)), so at depth 16 it has 34 linear layers. Unlike He et al.\'s plain nets, ours has **no normalisation** (the issue\'s plain deep MLP), and every linear layer has torch.nn.Linear\'s default init (uniform in ±1/√fan_in, variance 1/(3·fan_in)), not He init: each block (Linear → ReLU → Linear) shrinks the signal\'s second moment by about 18×, so the deep plain MLP starts with a vanishing signal as well as the optimisation difficulty He et al. describe. The norms sit before each block (pre-norm, with a final norm); BatchNorm normalises over the batch\'s 64 (full: 128) examples. AdamW (lr 1e-3, cosine to 1e-4, 20 warm-up steps (full: 100), weight decay 0.1, clipping at 1.0), not SGD with momentum, for 500 steps of 64 images in quick mode (0.6 of an epoch) and 3,000 of 128 in full (about 7 epochs); He et al. train for tens of epochs. Test accuracy is over the 10,000 test images after the last step; "steps to 80%" is the first evaluation (every 25 steps, on 16 × 64 = 1,024 fixed validation images, drawn with replacement; full: 16 × 128) at or above 80%, and a run that never got there counts as its budget, a lower bound.',
  plans: {
    quick: { base: quick, arms, seeds: 3 },
    full: { base: full, arms, seeds: 3 },
  },
  claims,
  // Chance is ln 10 ≈ 2.30 nats; a run that learned anything from the pixels ends far below 2.
  failAbove: 2,
  columns: [
    { metric: 'finalAccuracy', label: 'test accuracy' },
    { metric: 'finalValAccuracy', label: 'val accuracy (last evaluation)' },
    { metric: 'stepsTo80', label: 'steps to 80% val accuracy' },
    { metric: 'reached80', label: 'share of runs reaching 80%' },
    { metric: 'initGradEarlyLate', label: 'grad first/last quarter of blocks (init)' },
    { metric: 'trainGradEarlyLate', label: 'grad first/last quarter of blocks (training)' },
  ],
  figures: [
    byDepth('finalAccuracy', 'Test accuracy by depth', 'test accuracy'),
    byDepth('stepsTo80', 'Steps to 80% validation accuracy by depth (the budget when never reached)', 'steps'),
    { kind: 'curves', title: 'Validation accuracy, depth 16', arms: atDepth(16), metric: 'valAccuracy' },
    { kind: 'curves', title: 'Validation accuracy, depth 2', arms: atDepth(2), metric: 'valAccuracy' },
    { kind: 'curves', title: 'Validation loss, depth 16', arms: atDepth(16) },
    { kind: 'series', title: 'Gradient norm per block at initialisation, depth 16', series: 'initGrad', arms: atDepth(16), logY: true, xLabel: 'block', yLabel: '‖∂L/∂θ‖ of the block' },
    { kind: 'series', title: 'Gradient norm per block, mean over evaluations, depth 16', series: 'trainGrad', arms: atDepth(16), logY: true, xLabel: 'block', yLabel: '‖∂L/∂θ‖ of the block' },
  ],
};
