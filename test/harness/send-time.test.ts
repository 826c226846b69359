import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { sendRequest } from '../../src/harness/client.js';
import { protocolAdapter } from '../../src/harness/protocols.js';

/**
 * A dispatcher that writes the request later than it was dispatched, as undici does on a new
 * connection or a reused keep-alive one, and moves a fake run clock at each step.
 */
function deferredDispatcher(clock: { now: number }, steps: { write: number; firstChunk: number; secondChunk: number }): Dispatcher {
  const controller = { abort() {}, pause() {}, resume() {}, aborted: false, paused: false, reason: null } as unknown as Dispatcher.DispatchController;
  return {
    dispatch(_options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
      setImmediate(() => {
        clock.now = steps.write;
        handler.onRequestStart?.(controller, {});
        setImmediate(() => {
          handler.onResponseStart?.(controller, 200, { 'content-type': 'text/event-stream' }, 'OK');
          clock.now = steps.firstChunk;
          handler.onResponseData?.(controller, Buffer.from('data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n'));
          clock.now = steps.secondChunk;
          handler.onResponseData?.(controller, Buffer.from('data: {"choices":[{"index":0,"delta":{"content":"b"}}]}\n\ndata: [DONE]\n\n'));
          handler.onResponseEnd?.(controller, {});
        });
      });
      return true;
    },
  } as unknown as Dispatcher;
}

function send(clock: { now: number }, dispatcher: Dispatcher, scheduled_ms?: number): ReturnType<typeof sendRequest> {
  return sendRequest({
    dispatcher,
    origin: 'http://127.0.0.1:1',
    basePath: '',
    adapter: protocolAdapter('openai'),
    settings: { model: 'm' },
    prompt: { text: 'hello' },
    id: 0,
    level: 0,
    clock: () => clock.now,
    ...(scheduled_ms !== undefined ? { scheduled_ms } : {}),
  });
}

describe('the send time is the write to the socket, not the dispatch', () => {
  it('closed loop: latencies count from the write; the dispatch is kept beside it', async () => {
    const clock = { now: 100 };
    const r = await send(clock, deferredDispatcher(clock, { write: 103, firstChunk: 153, secondChunk: 163 }));
    expect(r.status).toBe('ok');
    expect(r.dispatched_ms).toBe(100);
    expect(r.sent_ms).toBe(103);
    expect(r.chunk_times_ms).toEqual([50, 60]);
    expect(r.ttft_ms).toBe(50);
  });

  it('open loop: latencies still count from the scheduled time', async () => {
    const clock = { now: 100 };
    const r = await send(clock, deferredDispatcher(clock, { write: 103, firstChunk: 153, secondChunk: 163 }), 98);
    expect(r.scheduled_ms).toBe(98);
    expect(r.dispatched_ms).toBe(100);
    expect(r.sent_ms).toBe(103);
    expect(r.ttft_ms).toBe(55);
  });

  it('a request that fails before its write keeps its dispatch time', async () => {
    const clock = { now: 7 };
    const failing = {
      dispatch(_o: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
        setImmediate(() => {
          clock.now = 9;
          handler.onResponseError?.({} as Dispatcher.DispatchController, Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
        });
        return true;
      },
    } as unknown as Dispatcher;
    const r = await send(clock, failing);
    expect(r.error_kind).toBe('connect_refused');
    expect(r.sent_ms).toBe(7);
    expect(r.dispatched_ms).toBe(7);
    expect(r.end_ms).toBe(9);
  });
});
