import { chatCompletionRequestSchema, validateRequest } from '../src/protocol/index.js';
import { defaultModel } from '../src/classifier/index.js';
const raw = Buffer.from(JSON.stringify({ model: 'auto', stream: true, stream_options: { include_usage: true }, max_tokens: 4, messages: [{ role: 'user', content: 'Write a Python function that merges two sorted lists into one sorted list.' }] }));
const m = defaultModel();
function time(name: string, f: () => unknown, n = 20000) {
  for (let i = 0; i < 2000; i++) f();
  const t = performance.now(); for (let i = 0; i < n; i++) f(); console.log(name, ((performance.now() - t) / n * 1000).toFixed(2), 'µs');
}
const obj = JSON.parse(raw.toString());
time('parse', () => JSON.parse(raw.toString('utf8')));
time('zod', () => validateRequest(chatCompletionRequestSchema, obj));
time('stringify', () => JSON.stringify({ ...obj, model: 'x', stream_options: { include_usage: true } }));
time('predict', () => m.predict('Write a Python function that merges two sorted lists into one sorted list.'));
