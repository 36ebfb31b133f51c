import { createPrivateKey, randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { SigningKey } from '../../operations/recipes/signing-key';

/** Rotated private keys live one file each under `<dataDir>/signing-keys/<kid>.pem` (0600). */
export const keysDir = (dataDir: string) => join(dataDir, 'signing-keys');

/** Writes a key durably: temp file, fsync, rename, so a crash never leaves half a key under its name. */
export function writeKeyFile(dataDir: string, key: SigningKey): void {
  const dir = keysDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, key.privatePem());
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, `${key.keyId}.pem`));
  const d = openSync(dir, 'r');
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
}

/** Every rotated key found on disk, by key id. */
export function readKeyFiles(dataDir: string): Map<string, SigningKey> {
  const out = new Map<string, SigningKey>();
  let names: string[];
  try {
    names = readdirSync(keysDir(dataDir));
  } catch {
    return out;
  }
  for (const name of names) {
    if (!name.endsWith('.pem')) continue;
    const key = new SigningKey(createPrivateKey(readFileSync(join(keysDir(dataDir), name), 'utf8')));
    out.set(key.keyId, key);
  }
  return out;
}
