import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { loadHubConfig } from '../../src/config/hub-config';
import { Hub, type HubAddresses } from '../../src/hub';
import { machineInfo } from './setup';

export const BENCH_ADMIN_EMAIL = 'bench@crema.local';

/**
 * A whole hub for a benchmark, in this process: a fresh data directory (and, with a database URL, a fresh
 * PostgreSQL schema), a generated admin password, a 5-minute limit after which the run aborts, and the
 * machine line every benchmark prints first. `stop()` removes what it created.
 */
export async function startBenchHub(o: {
  name: string;
  databaseUrl: string | undefined;
  devices: number;
}): Promise<{ hub: Hub; at: HubAddresses; password: string; stop(): Promise<void> }> {
  const guard = setTimeout(() => {
    console.error(`${o.name}: time limit (5 min) reached, aborting`);
    process.exit(2);
  }, 300_000);
  guard.unref();
  console.log(
    'machine',
    JSON.stringify(machineInfo({ backend: o.databaseUrl ? 'postgres' : 'sqlite', devices: o.devices })),
  );
  const dir = mkdtempSync(join(tmpdir(), `crema-bench-${o.name}-`));
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const flags = ['--host', '127.0.0.1', '--port', '0', '--mqtt-port', '0', '--data-dir', dir];
  if (o.databaseUrl) flags.push('--database-url', o.databaseUrl, '--database-schema', schema);
  const password = randomBytes(18).toString('base64url');
  const hub = new Hub({
    config: loadHubConfig(flags, { CREMA_ADMIN_EMAIL: BENCH_ADMIN_EMAIL, CREMA_ADMIN_PASSWORD: password }),
    logger: pino({ level: process.env.CREMA_BENCH_LOG ?? 'error' }),
    announce: () => undefined,
  });
  const at = await hub.start();
  return {
    hub,
    at,
    password,
    async stop() {
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
      if (o.databaseUrl) {
        const client = new pg.Client({ connectionString: o.databaseUrl });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade`);
        await client.end();
      }
    },
  };
}
