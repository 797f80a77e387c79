// Generation throughput with the KV cache, batch 1.

import type { Backend } from '../src/backend/backend.ts';
import { generate } from '../src/models/generate.ts';
import { GPT } from '../src/models/gpt.ts';
import { timeMsAsync, type Row } from './report.ts';
import type { StepCase } from './train-step.ts';

export async function benchGenerate(backend: Backend, c: StepCase, tokens: number, label: string, reference?: Row): Promise<Row> {
  const model = GPT.create(c.config, { backend, seed: 0 });
  const ms = await timeMsAsync(() => generate(model, [1], { maxNewTokens: tokens, seed: 1 }), 3, 1);
  return {
    section: 'generate',
    bench: `generate ${label}`,
    case: `${c.name}, batch 1, ${tokens} tokens`,
    value: (tokens * 1000) / ms,
    unit: 'tokens/s',
    ...(reference ? { reference: { name: reference.bench.replace(/^generate /, ''), value: reference.value } } : {}),
  };
}
