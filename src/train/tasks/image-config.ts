// The image task's run config: which model (the residual MLP or the ResNet), that model's fields, the
// data and the schedule. The fields of the model not chosen are refused rather than ignored.
// Defaults: the ResNet on Fashion-MNIST, about ten minutes on two cores; --model mlp is the
// articles' SimpleNet (784 → 256 → 10 with one residual block), about a minute.

import { z } from 'zod';
import { ConfigError, configError } from '../../models/gpt-config.ts';
import { ResidualMLPConfigFields, ResidualMLPConfigSchema, type ResidualMLPConfig } from '../../models/residual-mlp.ts';
import { ResNetConfigSchema, type ResNetConfig } from '../../models/resnet.ts';
import { scheduleWith } from './schedule.ts';

export const IMAGE_MODELS = ['resnet', 'mlp'] as const;
export type ImageModel = (typeof IMAGE_MODELS)[number];

/** Each model's own fields (inputs, image size and classes come from the data). */
const MLP_FIELDS = ['hidden', 'depth', 'dropout', 'bias', 'norm', 'placement', 'residual', 'mixRatio', 'hyperStreams'] as const satisfies readonly (keyof ResidualMLPConfig)[];
const RESNET_FIELDS = ['width', 'blocks'] as const satisfies readonly (keyof ResNetConfig)[];
const FIELDS_OF: Record<ImageModel, readonly string[]> = { mlp: MLP_FIELDS, resnet: RESNET_FIELDS };

const pickTrue = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, true])) as { [P in K]: true };

export const ImageConfigSchema = z
  .object({
    model: z.enum(IMAGE_MODELS).default('resnet'),
    ...ResidualMLPConfigFields.pick(pickTrue(MLP_FIELDS)).shape,
    ...ResNetConfigSchema.pick(pickTrue(RESNET_FIELDS)).shape,
    /** A directory of MNIST-format IDX files; absent: Fashion-MNIST from Debian's dataset-fashion-mnist. */
    data: z.string().min(1).optional(),
    /** Validation images held out of the training file (the test file stays the test set). */
    valFraction: z.number().gt(0).lt(1).default(0.1),
    ...scheduleWith({ batchSize: 64, maxIters: 1500, lr: 2e-3, minLr: 1e-4, warmupIters: 100, weightDecay: 0.0005, evalInterval: 250, evalIters: 20, diagInterval: 100 }),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.model !== 'mlp') return;
    const r = ResidualMLPConfigSchema.safeParse(Object.fromEntries(MLP_FIELDS.map((k) => [k, c[k]])));
    if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ ...issue, input: undefined } as never);
  });

export type ImageConfig = z.output<typeof ImageConfigSchema>;
export const IMAGE_CONFIG_FIELDS = Object.keys(ImageConfigSchema.shape) as (keyof ImageConfig)[];

export function parseImageConfig(raw: unknown, source = 'config'): ImageConfig {
  // A field of the other model would be silently unused: say so instead.
  if (raw !== null && typeof raw === 'object') {
    const model = ((raw as { model?: unknown }).model ?? 'resnet') as ImageModel;
    const other = IMAGE_MODELS.find((m) => m !== model);
    if (IMAGE_MODELS.includes(model) && other) {
      const stray = Object.keys(raw).filter((k) => FIELDS_OF[other].includes(k));
      if (stray.length > 0) throw new ConfigError(`${source}: ${stray.join(', ')} ${stray.length > 1 ? 'are settings' : 'is a setting'} of --model ${other}, but the model is ${model}; drop ${stray.length > 1 ? 'them' : 'it'} or pass --model ${other}`);
    }
  }
  const r = ImageConfigSchema.safeParse(raw);
  if (!r.success) throw configError(source, raw, r.error, IMAGE_CONFIG_FIELDS);
  if (r.data.minLr > r.data.lr) throw new ConfigError(`${source}: minLr = ${r.data.minLr} exceeds lr = ${r.data.lr}`);
  return r.data;
}

/** The fields a run of this model uses (config.json keeps only these of the models' fields). */
export function imageFieldsInUse(c: ImageConfig): ImageConfig {
  const other = FIELDS_OF[c.model === 'mlp' ? 'resnet' : 'mlp'];
  return Object.fromEntries(Object.entries(c).filter(([k]) => !other.includes(k))) as ImageConfig;
}

export function mlpConfigOf(c: ImageConfig, inputs: number, classes: number): ResidualMLPConfig {
  return { inputs, classes, ...Object.fromEntries(MLP_FIELDS.map((k) => [k, c[k]])) } as ResidualMLPConfig;
}

export function resnetConfigOf(c: ImageConfig, rows: number, cols: number, classes: number): ResNetConfig {
  if (rows !== cols) throw new ConfigError(`the ResNet takes square images; these are ${rows}×${cols}`);
  return { channels: 1, size: rows, classes, width: c.width, blocks: c.blocks };
}
