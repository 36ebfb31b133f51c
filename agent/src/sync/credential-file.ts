import {
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { AgentError } from '../errors';

/** Where a claimed credential lives: beside the ledger, outside it (a ledger reset must not lose it). */
export const credentialPath = (dataDir: string): string => join(dataDir, 'hub-credential.json');

const StoredCredentialSchema = z.object({
  deviceId: z.string().min(1),
  credential: z.string().min(16).max(512),
  merchantId: z.string(),
  locationId: z.string().nullable(),
  claimedAt: z.number().int(),
});
export type StoredCredential = z.infer<typeof StoredCredentialSchema>;

/** The stored credential, or undefined when none was claimed yet. A damaged file is an error a person must see. */
export function readCredential(file: string): StoredCredential | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AgentError('CONFIG_INVALID', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return StoredCredentialSchema.parse(JSON.parse(text));
  } catch (cause) {
    throw new AgentError('CONFIG_INVALID', `${file} is damaged; remove it and claim again with a new code`, {
      cause,
    });
  }
}

/**
 * Writes the credential readable by this user only (0600), durably (fsync of the file and its directory) and
 * atomically (a complete file or the previous one): it is shown once by the hub, so it must survive a power cut
 * the moment after the claim.
 */
export function writeCredential(file: string, value: StoredCredential): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = `${file}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    // A leftover temp file keeps its old mode on open: set it.
    fchmodSync(fd, 0o600);
    writeSync(fd, `${JSON.stringify(value)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
