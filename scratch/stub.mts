import { startOpenAIStub } from '../bench/lib/openai-stub.ts';
const s = await startOpenAIStub({ ttftMs: 20, itlMs: 5, tokens: 16, port: 19001 });
console.log('stub', s.url);
