/**
 * `expert-router serve --config FILE [--port P] [--host H]`: runs the routing gateway.
 * SIGTERM or SIGINT: graceful shutdown (drain up to shutdown.drain_s, then end what is left with an
 * error event), exit code 0; a second signal ends the drain at once. SIGHUP: reload the config
 * file (a bad one is refused and logged; the running config stays).
 */
import type { Command } from 'commander';
import { ConfigError, loadGatewayConfig, type GatewayConfig } from '../../config/index.js';
import { startGateway } from '../../gateway/index.js';
import { CliError } from '../run.js';

/** A TCP port, 0 (any free port) to 65535. */
function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`--port must be an integer from 0 to 65535, got '${value}'`, 2);
  return n;
}

interface ServeOptions {
  config: string;
  port?: number;
  host?: string;
}

/** The config file with the command line's overrides, read again on every reload. */
function readConfig(opts: ServeOptions): GatewayConfig {
  const config = loadGatewayConfig(opts.config);
  if (opts.port !== undefined) config.listen.port = opts.port;
  if (opts.host !== undefined) config.listen.host = opts.host;
  return config;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the routing gateway: classify each prompt and forward it to an expert (SIGTERM drains, SIGHUP reloads the config).')
    .requiredOption('-c, --config <file>', 'gateway config (YAML)')
    .option('-p, --port <port>', 'listen port, 0 for any free one (overrides listen.port)', parsePort)
    .option('--host <host>', 'listen address (overrides listen.host)')
    .action(async (opts: ServeOptions) => {
      let config;
      try {
        config = readConfig(opts);
      } catch (err) {
        if (err instanceof ConfigError) throw new CliError(err.message);
        throw err;
      }
      let gateway;
      try {
        gateway = await startGateway(config, { loadConfig: () => readConfig(opts) });
      } catch (err) {
        throw new CliError(`cannot start the gateway: ${(err as Error).message}`);
      }
      process.stdout.write(`expert-router gateway listening on ${gateway.url}\n`);
      const running = gateway;
      // The gateway logs the outcome of each reload; a refused one leaves the running config.
      const onHangup = (): void => void running.reload().catch(() => undefined);
      process.on('SIGHUP', onHangup);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.on('SIGTERM', () => void running.shutdown(0));
          process.on('SIGINT', () => void running.shutdown(0));
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await gateway.shutdown();
      process.off('SIGHUP', onHangup);
    });
}
