/** The project's logger: pino, JSON lines on stderr; level from EXPERT_ROUTER_LOG (default info). */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(name: string, level = process.env.EXPERT_ROUTER_LOG ?? 'info'): Logger {
  return pino({ name, level, base: undefined }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything, for tests and embedded use. */
export const silentLogger: Logger = pino({ level: 'silent' });
