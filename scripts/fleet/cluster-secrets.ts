import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What every hub process of one fleet must share: tokens, signatures and sealed rotated keys. */
export interface ClusterSecrets {
  CREMA_JWT_SECRET: string;
  CREMA_SIGNING_KEY: string;
  CREMA_KEY_ENCRYPTION_KEY: string;
}

/**
 * The fleet's shared secrets: taken from the environment where set, otherwise generated once and kept in
 * `<data-dir>/cluster-secrets.json` (0600), so the next launch on the same data directory (and database) can
 * still use the keys it rotated and sealed.
 */
export function clusterSecrets(dataDir: string, env: NodeJS.ProcessEnv = process.env): ClusterSecrets {
  const file = join(dataDir, 'cluster-secrets.json');
  const kept = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<ClusterSecrets>) : {};
  const made: ClusterSecrets = {
    CREMA_JWT_SECRET: kept.CREMA_JWT_SECRET ?? randomBytes(32).toString('hex'),
    CREMA_SIGNING_KEY:
      kept.CREMA_SIGNING_KEY ??
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    CREMA_KEY_ENCRYPTION_KEY: kept.CREMA_KEY_ENCRYPTION_KEY ?? randomBytes(32).toString('hex'),
  };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(made, null, 2)}\n`, { mode: 0o600 });
  return {
    CREMA_JWT_SECRET: env.CREMA_JWT_SECRET ?? made.CREMA_JWT_SECRET,
    CREMA_SIGNING_KEY: env.CREMA_SIGNING_KEY ?? made.CREMA_SIGNING_KEY,
    CREMA_KEY_ENCRYPTION_KEY: env.CREMA_KEY_ENCRYPTION_KEY ?? made.CREMA_KEY_ENCRYPTION_KEY,
  };
}
