import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerSim } from '../../src/cli/commands/sim.js';
import { CliError } from '../../src/cli/run.js';
import { countPromptTokens, parseSimConfig, startSimServers, SimError } from '../../src/sim/index.js';

describe('multi-server config file', () => {
  it('starts several engines on several ports in one process', async () => {
    const options = parseSimConfig(`
servers:
  - { profile: h100-80gb:llama-3.2-1b:bf16:tp1, port: 0, model_name: small, faults: { error_rate: 0 } }
  - { profile: h100-80gb:llama-3.2-3b:fp8:tp1:trtllm, port: 0, model_name: medium, output_length: { kind: fixed, tokens: 3 } }
`);
    const servers = await startSimServers(options);
    try {
      expect(new Set(servers.map((s) => s.port)).size).toBe(2);
      const names = await Promise.all(servers.map(async (s) => ((await (await fetch(`${s.url}/v1/models`)).json()) as { data: { id: string }[] }).data[0].id));
      expect(names).toEqual(['small', 'medium']);
      expect(servers[1].deployment.engineId).toBe('trtllm');
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });

  it.each([
    ['servers: []', /servers must list at least one server/],
    ['servers: [{ profile: x, colour: red }]', /colour/],
    ['servers: [{ profile: x, port: 70000 }]', /servers\[0\]\.port/],
    ['servers: [{ profile: x, faults: { error_rate: 3 } }]', /error_rate/],
    ['servers: [ {', /not valid YAML/],
  ])('rejects %s', (text, message) => {
    expect(() => parseSimConfig(text)).toThrow(message);
    expect(() => parseSimConfig(text)).toThrow(SimError);
  });

  it('closes the servers already started when a later one fails', async () => {
    const options = parseSimConfig('servers:\n  - { profile: h100-80gb:llama-3.2-1b:bf16:tp1, port: 0 }\n  - { profile: a10g:llama-3-70b:bf16:tp1 }\n');
    await expect(startSimServers(options)).rejects.toThrow(/does not fit/);
  });
});

describe('sim command', () => {
  const run = async (...args: string[]): Promise<unknown> => {
    const program = new Command().exitOverride();
    registerSim(program);
    return program.parseAsync(['node', 'expert-router', 'sim', ...args]).then(() => undefined, (e: unknown) => e);
  };

  it('turns a bad profile into a CLI error, not a stack trace', async () => {
    const err = await run('--profile', 'h100-80gb:llama-3-8b:bf16:tp3');
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toMatch(/tp1, tp2, tp4, tp8/);
  });

  it('refuses a configuration that does not fit and validates flags', async () => {
    expect(((await run('--profile', 'a10g:llama-3-70b:bf16:tp1')) as Error).message).toMatch(/short by/);
    expect(((await run('--profile', 'h200:llama-3-8b:bf16:tp1', '--error-rate', '2')) as CliError).exitCode).toBe(2);
    expect(((await run()) as Error).message).toMatch(/--profile/);
  });
});

describe('prompt tokens', () => {
  it('counts Llama 3 tokens exactly, special tokens included', () => {
    expect(countPromptTokens('Hello world')).toBe(2);
    expect(countPromptTokens('<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello there<|eot_id|>')).toBe(8);
    expect(countPromptTokens('Hello world')).toBe(2);
  });

  it('estimates very long texts at 4 characters per token', () => {
    expect(countPromptTokens('a'.repeat(40_000))).toBe(10_000);
  });
});
