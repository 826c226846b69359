/** Runs a commander program so that every failure ends with a clear message and exit code, never a stack trace. */
import { CommanderError, type Command } from 'commander';
import { ExpertRouterError } from '../common/errors.js';

export type CliErrorCode = 'invalid_argument' | 'command_failed';

/** A failure the user can fix: printed as "error: message", exit code 1 (2, invalid_argument, for usage errors). */
export class CliError extends ExpertRouterError<CliErrorCode> {
  constructor(message: string, readonly exitCode = 1) {
    super(exitCode === 2 ? 'invalid_argument' : 'command_failed', message);
  }
}

/**
 * A reader that stops reading (`expert-router sim --list | head`) closes the command's stdout: the
 * command then ends at once and quietly, with the exit status it had so far, instead of failing on
 * the write with an EPIPE stack.
 */
export function endQuietlyOnClosedOutput(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
  }
}

export async function runCli(program: Command, argv: string[]): Promise<void> {
  endQuietlyOnClosedOutput();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (help, version or a usage error).
      process.exitCode = err.exitCode;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: ${message}\n`);
    if (process.env.EXPERT_ROUTER_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  }
}

/** Parses a positive integer option, naming the option in the error. */
export function parsePositiveInt(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new CliError(`${name} must be a positive integer, got '${value}'`, 2);
    return n;
  };
}
