import { loadPreset, runExperiment } from '../src/experiment/index.ts';
const spec = loadPreset('demo');
spec.load.users = [1, 1, 1];
spec.load.duration_s = 8;
const r = await runExperiment(spec, { clock: 'live' });
const c = r.configs[0];
c.levels.forEach((l, i) => console.log('gw', l.ttft_ms.p50, l.ttft_ms.mean, 'direct', c.direct_levels![i].ttft_ms.p50, c.direct_levels![i].ttft_ms.mean, 'prompt', l.prompt_tokens_mean, c.direct_levels![i].prompt_tokens_mean));
