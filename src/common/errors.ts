/**
 * The base of every error the project throws on purpose: a `name` (the class) and a stable `code`
 * (a snake_case word that tests, logs and HTTP error bodies can rely on). Each area has its own
 * subclass (ClassifierError, SimError, ConfigError, ...) with its own set of codes.
 */
export class ExpertRouterError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}
