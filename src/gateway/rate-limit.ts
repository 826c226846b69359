/**
 * Per-key rate limits: requests per minute and tokens per minute, each a token bucket that holds
 * one minute's worth and refills continuously. A request needs one request token and a token
 * bucket above zero; the tokens a request used (prompt + completion, as the expert reported them)
 * are taken when it ends, so the bucket may go below zero and then blocks until it refills.
 * The limiters live as long as the gateway process, across config reloads.
 */
import { ApiError } from '../protocol/index.js';

class Bucket {
  level: number;
  private updated: number;

  constructor(public perMinute: number, now: number) {
    this.level = perMinute;
    this.updated = now;
  }

  refill(now: number): void {
    this.level = Math.min(this.perMinute, this.level + ((now - this.updated) * this.perMinute) / 60_000);
    this.updated = now;
  }

  /** Whole seconds until the level reaches `needed`. */
  secondsUntil(needed: number): number {
    return Math.max(1, Math.ceil(((needed - this.level) * 60) / this.perMinute));
  }
}

export interface KeyLimits {
  requests_per_minute?: number;
  tokens_per_minute?: number;
}

/** The limits of one key. */
export class KeyLimiter {
  private requests: Bucket | undefined;
  private tokens: Bucket | undefined;

  constructor(private readonly name: string, limits: KeyLimits, private readonly now: () => number) {
    this.configure(limits);
  }

  configure(limits: KeyLimits): void {
    const now = this.now();
    this.requests = resize(this.requests, limits.requests_per_minute, now);
    this.tokens = resize(this.tokens, limits.tokens_per_minute, now);
  }

  /** Takes a request token, or throws 429 rate_limited with the seconds to wait. */
  admit(): void {
    const now = this.now();
    const { requests, tokens } = this;
    requests?.refill(now);
    tokens?.refill(now);
    if (requests && requests.level < 1) {
      const wait = requests.secondsUntil(1);
      throw new ApiError('rate_limited', `key '${this.name}' is over its limit of ${requests.perMinute} requests per minute; retry in ${wait} s`, { retryAfterS: wait });
    }
    if (tokens && tokens.level <= 0) {
      const wait = tokens.secondsUntil(Math.min(1, tokens.perMinute));
      throw new ApiError('rate_limited', `key '${this.name}' is over its limit of ${tokens.perMinute} tokens per minute; retry in ${wait} s`, { retryAfterS: wait });
    }
    if (requests) requests.level -= 1;
  }

  /** Charges the tokens a finished request used. */
  charge(used: number): void {
    if (!this.tokens || used <= 0) return;
    this.tokens.refill(this.now());
    this.tokens.level -= used;
  }
}

function resize(bucket: Bucket | undefined, perMinute: number | undefined, now: number): Bucket | undefined {
  if (perMinute === undefined) return undefined;
  if (!bucket) return new Bucket(perMinute, now);
  bucket.refill(now);
  bucket.perMinute = perMinute;
  bucket.level = Math.min(bucket.level, perMinute);
  return bucket;
}

/** The limiter of every key by name, kept across reloads (a reload does not reset anyone's limits). */
export class RateLimits {
  private readonly byName = new Map<string, KeyLimiter>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The key's limiter with these limits, or undefined when it has none. */
  limiter(name: string, limits: KeyLimits): KeyLimiter | undefined {
    if (limits.requests_per_minute === undefined && limits.tokens_per_minute === undefined) {
      this.byName.delete(name);
      return undefined;
    }
    let limiter = this.byName.get(name);
    if (limiter) limiter.configure(limits);
    else this.byName.set(name, (limiter = new KeyLimiter(name, limits, this.now)));
    return limiter;
  }
}
