import { describe, expect, it } from 'vitest';
import { RealClock } from '../../src/sim/clock.js';
import { Pacer } from '../../src/sim/pacer.js';

describe('pacer (real-time delivery of the engine tokens)', () => {
  it('runs every delivery in the order queued, never before its time', async () => {
    const clock = new RealClock();
    const pacer = new Pacer(clock);
    const t0 = clock.now();
    // Dense like an output loop (10 us apart), with a gap, and one queued behind a later time.
    const due = [...Array.from({ length: 200 }, (_, i) => t0 + 2 + i * 0.01), t0 + 8, t0 + 6];
    const ran: { index: number; at: number }[] = [];
    await new Promise<void>((resolve) => {
      due.forEach((atMs, index) =>
        pacer.at(atMs, () => {
          ran.push({ index, at: clock.now() });
          if (ran.length === due.length) resolve();
        }),
      );
    });
    expect(ran.map((r) => r.index)).toEqual(due.map((_, i) => i));
    ran.forEach((r) => expect(r.at).toBeGreaterThanOrEqual(due[r.index]));
    // The last one was due at t0 + 6 but queued after the t0 + 8 one, so it waits for it.
    expect(ran[ran.length - 1].at).toBeGreaterThanOrEqual(t0 + 8);
  });

  it('takes deliveries queued while it drains, and starts again after running dry', async () => {
    const clock = new RealClock();
    const pacer = new Pacer(clock);
    const order: string[] = [];
    await new Promise<void>((resolve) => {
      pacer.at(clock.now(), () => {
        order.push('a');
        pacer.at(clock.now() + 1, () => order.push('b'));
        pacer.at(clock.now() + 2, () => {
          order.push('c');
          setTimeout(() => pacer.at(clock.now() + 1, () => {
            order.push('d');
            resolve();
          }), 5);
        });
      });
    });
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });
});
