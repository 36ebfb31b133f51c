import pino from 'pino';
import { loadHubConfig } from './config/hub-config';
import { HubError } from './errors';
import { Hub } from './hub';

/**
 * `pnpm hub [-- flags]`: runs the hub until SIGINT/SIGTERM. Logs go to stderr; stdout carries exactly one
 * JSON line once the hub serves, for scripts to parse.
 */
async function main(): Promise<void> {
  const config = loadHubConfig(process.argv.slice(2), process.env);
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const hub = new Hub({ config, logger });
  const addresses = await hub.start();
  process.stdout.write(`${JSON.stringify({ event: 'ready', ...addresses })}\n`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    hub.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  const message =
    err instanceof HubError ? `${err.code}: ${err.message}` : String((err as Error)?.stack ?? err);
  process.stderr.write(`hub failed to start: ${message}\n`);
  process.exit(err instanceof HubError && err.code === 'CONFIG_INVALID' ? 2 : 1);
});
