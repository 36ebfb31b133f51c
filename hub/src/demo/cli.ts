import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '@crema/protocol';
import { PasswordHasher } from '../auth/passwords';
import { DEFAULTS, ENV_NAMES } from '../config/hub-config';
import { openDb } from '../db/connect';
import { migrateToLatest } from '../db/migrate';
import { loadSigningKey } from '../operations/recipes/signing-key';
import { ATTACHMENT_NAMESPACE } from '../operations/workorders/attachments';
import { DbArtifactStore } from '../updates/artifacts/db-store';
import { FsArtifactStore } from '../updates/artifacts/fs-store';
import { defaultArtifactStore } from '../updates/artifacts/open-store';
import { generateDemo } from './generate';

const USAGE = `pnpm demo -- [--devices 200] [--orders 5000] [--merchants 3] [--days 14] [--seed N]
           [--online-rate 0.7] [--fault-rate 0.05] [--data-dir DIR] [--database-url URL]
Fills the hub store (the same one \`pnpm hub\` uses: ${ENV_NAMES.dataDir} / ${ENV_NAMES.databaseUrl}) with demo data.
Prints one JSON line: what was created and the demo users' credentials (shown only this once).`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--')),
    strict: true,
    options: {
      devices: { type: 'string', default: '200' },
      orders: { type: 'string', default: '5000' },
      merchants: { type: 'string', default: '3' },
      days: { type: 'string', default: '14' },
      seed: { type: 'string' },
      'online-rate': { type: 'string', default: '0.7' },
      'fault-rate': { type: 'string', default: '0.05' },
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const num = (name: string, text: string | undefined, min: number, max: number): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new Error(`--${name} must be between ${min} and ${max}`);
    return n;
  };
  const options = {
    devices: num('devices', values.devices, 1, 10_000),
    orders: num('orders', values.orders, 0, 1_000_000),
    merchants: num('merchants', values.merchants, 1, 4),
    days: num('days', values.days, 1, 365),
    onlineRate: num('online-rate', values['online-rate'], 0, 1),
    faultRate: num('fault-rate', values['fault-rate'], 0, 1),
    ...(values.seed === undefined ? {} : { seed: num('seed', values.seed, 0, 2 ** 32 - 1) }),
  };
  const dataDir = resolve(values['data-dir'] ?? process.env[ENV_NAMES.dataDir] ?? DEFAULTS.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const url = values['database-url'] ?? process.env[ENV_NAMES.databaseUrl] ?? join(dataDir, 'hub.sqlite');
  const db = openDb(url);
  try {
    await migrateToLatest(db.kysely);
    const started = Date.now();
    const summary = await generateDemo(db, options, {
      clock: systemClock,
      passwords: new PasswordHasher(),
      // The hub's own key, so the demo menus verify with what `pnpm hub` publishes.
      signingKey: loadSigningKey(dataDir, process.env.CREMA_SIGNING_KEY),
      // Where `pnpm hub` keeps artifacts, so the hub serves the demo's attachments.
      attachments: (process.env[ENV_NAMES.artifactStore] === 'db' ||
      (process.env[ENV_NAMES.artifactStore] !== 'fs' && defaultArtifactStore(db) === 'db')
        ? new DbArtifactStore(db.kysely)
        : new FsArtifactStore(join(dataDir, 'artifacts'))
      ).namespace(ATTACHMENT_NAMESPACE),
    });
    process.stdout.write(`${JSON.stringify({ event: 'demo', ...summary, ms: Date.now() - started })}\n`);
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error)?.message ?? String(err)}\n${USAGE}\n`);
  process.exit(1);
});
