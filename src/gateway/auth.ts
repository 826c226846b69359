/**
 * Client authentication: `authorization: Bearer <key>` checked against auth.keys, which the
 * gateway holds only as SHA-256 hashes. With no keys configured every caller is anonymous and
 * allowed (the listener then binds loopback only, see listen-guard.ts). Keys are never logged;
 * a caller is known by its key's name.
 */
import type { IncomingMessage } from 'node:http';
import { hashKey, type ClientKeyConfig } from '../config/index.js';
import { ApiError } from '../protocol/index.js';
import type { KeyLimiter, RateLimits } from './rate-limit.js';

export interface Caller {
  /** The key's name; 'anonymous' when auth is off. */
  name: string;
  /** Experts it may use; undefined: all. */
  experts: ReadonlySet<string> | undefined;
  admin: boolean;
  limiter: KeyLimiter | undefined;
}

const ANONYMOUS: Caller = { name: 'anonymous', experts: undefined, admin: false, limiter: undefined };

export class Authenticator {
  private readonly byHash = new Map<string, Caller>();

  constructor(keys: readonly ClientKeyConfig[], limits: RateLimits) {
    for (const k of keys) {
      this.byHash.set(k.sha256, {
        name: k.name,
        experts: k.experts ? new Set(k.experts) : undefined,
        admin: k.admin,
        limiter: limits.limiter(k.name, k),
      });
    }
  }

  get enabled(): boolean {
    return this.byHash.size > 0;
  }

  /** The caller of a request; 401 unauthorized when auth is on and the key is missing or unknown. */
  authenticate(req: IncomingMessage): Caller {
    if (this.byHash.size === 0) return ANONYMOUS;
    const header = req.headers.authorization;
    if (header === undefined) throw new ApiError('unauthorized', "missing API key: send it as 'Authorization: Bearer <key>'");
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match) throw new ApiError('unauthorized', "malformed Authorization header: expected 'Bearer <key>'");
    const caller = this.byHash.get(hashKey(match[1]));
    if (!caller) throw new ApiError('unauthorized', 'invalid API key');
    return caller;
  }

  /** 403 unless the caller holds an admin key (auth off: there is no admin key, so never). */
  requireAdmin(caller: Caller, what: string): void {
    if (caller.admin) return;
    const why = this.enabled ? 'an admin key (auth.keys[].admin: true)' : 'auth.keys with an admin key configured';
    throw new ApiError('permission_denied', `${what} needs ${why}`);
  }

  /** 403 unless the caller may use the expert. */
  static requireExpert(caller: Caller, expert: string): void {
    if (caller.experts && !caller.experts.has(expert)) {
      throw new ApiError('permission_denied', `key '${caller.name}' may not use expert '${expert}' (allowed: ${[...caller.experts].join(', ')})`, { param: 'model' });
    }
  }
}
