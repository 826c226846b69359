/** The load harness's failures, each with a stable code; the message names the option, file or line at fault. */
import { ExpertRouterError } from '../common/errors.js';

export type HarnessErrorCode =
  /** An option (CLI flag or RunOptions field) that cannot be used: a duration, a level list, an SLO, a target. */
  | 'invalid_option'
  /** A dataset, corpus or run directory that cannot be read. */
  | 'input_unreadable'
  /** A file that was read but is not what it should be (no prompts, not a bench summary). */
  | 'input_invalid';

export class HarnessError extends ExpertRouterError<HarnessErrorCode> {}
