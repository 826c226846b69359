/** The hot path's shortcuts agree with the slow definitions they stand in for. */
import { describe, expect, it } from 'vitest';
import { openaiBackend, setTopLevelMembers } from '../../src/backends/index.js';
import { isCertainlyValid } from '../../src/gateway/request-body.js';
import { chatCompletionRequestSchema, completionRequestSchema } from '../../src/protocol/index.js';

const msg = [{ role: 'user', content: 'hi' }];

describe('request validation shortcut', () => {
  it('takes the usual bodies and never one that zod refuses', () => {
    const chatBodies: unknown[] = [
      { model: 'auto', messages: msg },
      { model: 'auto', messages: msg, stream: true, stream_options: { include_usage: true }, max_tokens: 16, temperature: 0.7, top_p: 1, n: 1, stop: ['x'], seed: 3, user: 'u', extra: { a: 1 } },
      { model: 'auto', messages: [{ role: 'system', content: null }, { role: 'user', content: 'x', name: 'n' }] },
      { model: '', messages: msg },
      { model: 'auto', messages: [] },
      { model: 'auto', messages: [{ role: 'wizard', content: 'x' }] },
      { model: 'auto', messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] },
      { model: 'auto', messages: [{ role: 'user', content: 5 }] },
      { model: 'auto', messages: msg, temperature: 2.5 },
      { model: 'auto', messages: msg, top_p: -0.1 },
      { model: 'auto', messages: msg, max_tokens: 0 },
      { model: 'auto', messages: msg, max_tokens: 1.5 },
      { model: 'auto', messages: msg, n: 2 },
      { model: 'auto', messages: msg, stream: null },
      { model: 'auto', messages: msg, stream_options: { include_usage: 'yes' } },
      { model: 'auto', messages: msg, stop: [1] },
      { model: 'auto', messages: msg, user: 5 },
      { model: 'auto', messages: [null] },
      { messages: msg },
    ];
    const completionBodies: unknown[] = [
      { model: 'auto', prompt: 'x' },
      { model: 'auto', prompt: ['x'] },
      { model: 'auto', prompt: ['x', 'y'] },
      { model: 'auto', prompt: 5 },
      { model: 'auto' },
    ];
    let fast = 0;
    for (const [bodies, schema, kind] of [[chatBodies, chatCompletionRequestSchema, 'chat'], [completionBodies, completionRequestSchema, 'completion']] as const) {
      for (const body of bodies) {
        const shortcut = isCertainlyValid(body as Record<string, unknown>, kind);
        if (shortcut) fast++;
        // The shortcut may send a valid body to zod, never pass an invalid one.
        if (shortcut) expect(schema.safeParse(body).success, JSON.stringify(body)).toBe(true);
      }
    }
    expect(fast).toBe(5);
  });
});

describe('setTopLevelMembers', () => {
  it('replaces top-level members and keeps every other byte range as sent', () => {
    const bodies = [
      '{"model":"auto","messages":[{"role":"user","content":"a \\"model\\": \\\\ x"}],"stream":true}',
      ' { "messages" : [ {"role":"user","content":"{[,]}"} ] , "model" : "auto" , "n" : 1 } ',
      '{"model":"a","model":"b","stream_options":{"include_usage":false,"x":[1,{"y":"}"}]},"max_tokens":null}',
      '{"prompt":"héllo ✓","temperature":0.5e1,"stop":["\\n"]}',
      '{}',
    ];
    const changed = { model: 'upstream-model', stream_options: { include_usage: true } };
    for (const text of bodies) {
      const out = setTopLevelMembers(Buffer.from(text), changed);
      expect(out, text).toBeDefined();
      expect(JSON.parse(out!.toString('utf8'))).toEqual({ ...JSON.parse(text), ...changed });
    }
    expect(setTopLevelMembers(Buffer.from('{"mod\\u0065l":"auto"}'), changed)).toBeUndefined();
  });

  it('is what the OpenAI backend forwards for a long body; a short one is serialised', () => {
    const raw = Buffer.from(`{"model":"auto","messages":[{"role":"user","content":"${'hi '.repeat(1000)}"}],"stream":true}`);
    const body = JSON.parse(raw.toString()) as Record<string, unknown>;
    const call = { kind: 'chat' as const, body, model: 'm', stream: true, clientWantsUsage: false };
    const expected = { ...body, model: 'm', stream_options: { include_usage: true } };
    const spliced = openaiBackend.request({ ...call, raw }).body;
    expect(Buffer.isBuffer(spliced)).toBe(true);
    expect(JSON.parse(spliced.toString())).toEqual(expected);
    expect(JSON.parse(openaiBackend.request(call).body.toString())).toEqual(expected);
  });
});
