import { describe, expect, it } from 'vitest';
import { listProfiles, resolveProfile, SimError } from '../../src/sim/index.js';

describe('profiles', () => {
  it('resolves the issue example with its GPU count, model and KV capacity', () => {
    const d = resolveProfile('h100-80gb:llama-3-70b:fp8:tp2');
    expect(d.id).toBe('h100-80gb:llama-3-70b:fp8:tp2:vllm');
    expect(d.gpus).toBe(2);
    expect(d.modelName).toBe('meta-llama/Meta-Llama-3-70B-Instruct');
    expect(d.params / 1e9).toBeCloseTo(70.6, 0);
    // KV per token of Llama 3 70B in bf16: 2 x 80 layers x 8 heads x 128 x 2 bytes.
    expect(d.kvBytesPerToken).toBe(327_680);
    expect(d.kvCapacityTokens % 16).toBe(0);
    expect(d.kvCapacityTokens).toBeGreaterThan(100_000);
    expect(d.contextLength).toBe(8192);
  });

  it('derives the 8B parameter count from the architecture and selects the engine', () => {
    const d = resolveProfile('H100-80GB:llama-3-8b:bf16:tp1:trtllm');
    expect(d.params / 1e9).toBeCloseTo(8.03, 2);
    expect(d.engineId).toBe('trtllm');
    expect(d.engine.max_num_seqs).toBe(2048);
  });

  it('refuses a configuration that does not fit, saying by how much', () => {
    let err: unknown;
    try {
      resolveProfile('a10g:llama-3-70b:bf16:tp1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimError);
    expect((err as SimError).code).toBe('no_fit');
    expect((err as SimError).message).toMatch(/short by \d+\.\d\d GiB per GPU/);
  });

  it.each([
    ['h100:llama-3-8b:bf16:tp1', /unknown GPU 'h100'.*h100-80gb/],
    ['h100-80gb:llama-2-7b:bf16:tp1', /unknown model 'llama-2-7b'/],
    ['h100-80gb:llama-3-8b:fp4:tp1', /unknown format 'fp4'/],
    ['h100-80gb:llama-3-8b:bf16:tp3', /must be one of tp1, tp2, tp4, tp8/],
    ['h100-80gb:llama-3-8b:bf16:tp1:tgi', /unknown engine 'tgi'/],
    ['h100-80gb:llama-3-8b', /GPU:MODEL:FORMAT:tpN/],
  ])('rejects %s clearly', (id, message) => {
    expect(() => resolveProfile(id)).toThrow(message);
  });

  it('lists every combination with fit and capacity', () => {
    const list = listProfiles();
    expect(list).toHaveLength(2 * 6 * 6 * 4 * 4);
    const ok = list.find((p) => p.id === 'h200:llama-3.1-70b:fp8:tp1:trtllm');
    expect(ok?.fits).toBe(true);
    expect(ok?.kvCapacityTokens).toBeGreaterThan(0);
    const no = list.find((p) => p.id === 'a10g:llama-3-70b:bf16:tp1:vllm');
    expect(no?.fits).toBe(false);
    expect(no?.shortGib).toBeGreaterThan(100);
  });
});
