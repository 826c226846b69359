/** `expert-router serve --config FILE [--port P]`: runs the routing gateway until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { ConfigError, loadGatewayConfig } from '../../config/index.js';
import { startGateway } from '../../gateway/index.js';
import { CliError } from '../run.js';

/** A TCP port, 0 (any free port) to 65535. */
function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`--port must be an integer from 0 to 65535, got '${value}'`, 2);
  return n;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the routing gateway: classify each prompt and forward it to an expert.')
    .requiredOption('-c, --config <file>', 'gateway config (YAML)')
    .option('-p, --port <port>', 'listen port, 0 for any free one (overrides listen.port)', parsePort)
    .option('--host <host>', 'listen address (overrides listen.host)')
    .action(async (opts: { config: string; port?: number; host?: string }) => {
      let config;
      try {
        config = loadGatewayConfig(opts.config);
      } catch (err) {
        if (err instanceof ConfigError) throw new CliError(err.message);
        throw err;
      }
      if (opts.port !== undefined) config.listen.port = opts.port;
      if (opts.host !== undefined) config.listen.host = opts.host;
      let gateway;
      try {
        gateway = await startGateway(config);
      } catch (err) {
        throw new CliError(`cannot start the gateway: ${(err as Error).message}`);
      }
      process.stdout.write(`expert-router gateway listening on ${gateway.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await gateway.close();
    });
}
