// Load a run directory (made by `resnorm train` or train.mjs) and generate from its latest checkpoint.
// Usage: node sample.mjs <run-dir> [prompt]
import { createWasmBackend, generate, loadCheckpoint, modelOf, openRunDirectory, promptFor } from 'resnorm';

const [dir, prompt = 'It is'] = process.argv.slice(2);
if (!dir) throw new Error('usage: node sample.mjs <run-dir> [prompt]');
const backend = await createWasmBackend({ threads: 1 });
const ckpt = await loadCheckpoint(await openRunDirectory(dir), 'latest', { forTraining: false });
const model = modelOf(ckpt, backend);
const ids = await generate(model, promptFor(ckpt.tokenizer, prompt), { maxNewTokens: 60, temperature: 0.8, topK: 20, seed: 1 });
console.log(`step ${ckpt.entry.step}: ${prompt}${ckpt.tokenizer.decode(ids)}`);
await backend.dispose();
