/** Failures of the simulator's configuration (profiles, options, files), each with a stable code. */
export type SimErrorCode = 'unknown_profile' | 'bad_profile' | 'no_fit' | 'bad_config' | 'bad_request';

export class SimError extends Error {
  constructor(readonly code: SimErrorCode, message: string) {
    super(message);
    this.name = 'SimError';
  }
}
