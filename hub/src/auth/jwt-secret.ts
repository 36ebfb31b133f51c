import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubError } from '../errors';

/**
 * The HS256 key: `CREMA_JWT_SECRET` when set, otherwise a random key generated once and kept in the data
 * directory with mode 0600, so tokens survive restarts without anyone choosing a secret.
 */
export function loadJwtSecret(dataDir: string, fromEnv: string | undefined): Uint8Array {
  if (fromEnv !== undefined && fromEnv !== '') {
    const bytes = new TextEncoder().encode(fromEnv);
    if (bytes.byteLength < 32)
      throw new HubError('CONFIG_INVALID', 'CREMA_JWT_SECRET must be at least 32 bytes');
    return bytes;
  }
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8').trim();
    const key = Buffer.from(text, 'base64url');
    if (key.byteLength < 32)
      throw new HubError('CONFIG_INVALID', `${file} holds a key shorter than 32 bytes`);
    return new Uint8Array(key);
  }
  const key = randomBytes(48);
  writeFileSync(file, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return new Uint8Array(key);
}
