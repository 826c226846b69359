/**
 * Fault injection for the simulated server, set at start and changeable at run time
 * (POST /admin/faults). Each fault is drawn per request from the server's seeded generator.
 */
import { z } from 'zod';
import { ExpertRouterError } from '../common/errors.js';

export const faultSettingsSchema = z.strictObject({
  /** Fraction of requests answered 500 (injected_fault) before any token. */
  errorRate: z.number().min(0).max(1),
  /** Stall: after the first token, no token reaches the client for this many ms (0 = off). */
  stallMs: z.number().min(0),
  /** Fraction of requests that stall when stallMs > 0. */
  stallRate: z.number().min(0).max(1),
  /** Fraction of streamed requests whose connection is cut mid-stream, after the first token. */
  disconnectRate: z.number().min(0).max(1),
  /** Delay before a request is answered at all (headers included), ms. */
  slowStartMs: z.number().min(0),
  /** Stop listening for this many ms: new connections are refused (ECONNREFUSED); 0 = accept. */
  refuseConnectionsMs: z.number().min(0),
});

export type FaultSettings = z.infer<typeof faultSettingsSchema>;

export const NO_FAULTS: FaultSettings = {
  errorRate: 0,
  stallMs: 0,
  stallRate: 1,
  disconnectRate: 0,
  slowStartMs: 0,
  refuseConnectionsMs: 0,
};

/** Validates a partial update; the error names the field. */
export function parseFaultUpdate(value: unknown): Partial<FaultSettings> {
  const result = faultSettingsSchema.partial().safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join('.');
  throw new FaultUpdateError(`invalid fault setting${field ? ` '${field}'` : ''}: ${issue.message}`, field || null);
}

/** A fault update the server refuses; `field` names the setting at fault. */
export class FaultUpdateError extends ExpertRouterError<'invalid_fault_setting'> {
  constructor(message: string, readonly field: string | null) {
    super('invalid_fault_setting', message);
  }
}
