/**
 * The listener is no open proxy: without client keys (auth.keys) the gateway binds a loopback
 * address only, unless listen.allow_unauthenticated says otherwise.
 */
import { isIP } from 'node:net';
import { ConfigError, type GatewayConfig } from '../config/index.js';

export function isLoopback(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1' || /^::ffff:127\./i.test(bare);
}

/** Throws when the config would serve a non-loopback address to anyone. */
export function assertSafeListen(config: GatewayConfig): void {
  const { host, allow_unauthenticated } = config.listen;
  if (isLoopback(host) || config.auth.keys.length > 0 || allow_unauthenticated) return;
  throw new ConfigError(
    `listen.host: '${host}' is not a loopback address and auth.keys is empty, so anyone who can reach it could use the experts; configure auth.keys, or set listen.allow_unauthenticated: true to serve it anyway`,
  );
}
