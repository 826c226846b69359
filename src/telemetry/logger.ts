/**
 * The project's logger: pino, JSON lines on stderr; level from EXPERT_ROUTER_LOG (default info).
 * Header-like secrets are redacted wherever a logged object carries them (an authorization
 * header, an api_key), as a second line of defence: the gateway never logs keys or prompts itself.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths pino censors in every line. */
export const REDACTED_PATHS = [
  'authorization',
  'api_key',
  'headers.authorization',
  'headers["proxy-authorization"]',
  'headers.cookie',
  '*.authorization',
  '*.api_key',
  '*.headers.authorization',
];

export function createLogger(name: string, level = process.env.EXPERT_ROUTER_LOG ?? 'info'): Logger {
  return pino({ name, level, base: undefined, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything, for tests and embedded use. */
export const silentLogger: Logger = pino({ level: 'silent' });
