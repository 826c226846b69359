/** Failures of the simulator's configuration (profiles, options, files), each with a stable code. */
import { ExpertRouterError } from '../common/errors.js';

export type SimErrorCode = 'unknown_profile' | 'bad_profile' | 'no_fit' | 'bad_config' | 'bad_request';

export class SimError extends ExpertRouterError<SimErrorCode> {}
