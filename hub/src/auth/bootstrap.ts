import { randomBytes } from 'node:crypto';
import type { Clock } from '@crema/protocol';
import { ulid } from '@crema/protocol';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/log';
import type { Database } from '../db/database';
import { HubError } from '../errors';
import { passwordWeakness } from './password-policy';
import type { PasswordHasher } from './passwords';

export interface BootstrapOptions {
  email: string | undefined;
  password: string | undefined;
  /** Where a generated password is shown, once (stderr in the CLI). */
  announce: (line: string) => void;
}

export const DEFAULT_ADMIN_EMAIL = 'admin@crema.local';

/**
 * Creates the first superadmin when none exists. There is no default password: it comes from
 * CREMA_ADMIN_PASSWORD, or is generated and announced exactly once (it is never stored in clear).
 * Returns the email of the account created, or undefined when a superadmin already existed.
 */
export async function ensureSuperadmin(
  db: Kysely<Database>,
  deps: { passwords: PasswordHasher; clock: Clock; audit: AuditLog },
  options: BootstrapOptions,
): Promise<string | undefined> {
  const existing = await db
    .selectFrom('users')
    .select('id')
    .where('role', '=', 'superadmin')
    .executeTakeFirst();
  if (existing) return undefined;
  const email = (options.email ?? DEFAULT_ADMIN_EMAIL).trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(email))
    throw new HubError('CONFIG_INVALID', `CREMA_ADMIN_EMAIL is not an email: ${email}`);
  let password = options.password;
  if (password !== undefined) {
    const weakness = password.length > 256 ? 'at most 256 characters' : passwordWeakness(password, { email });
    if (weakness !== null)
      throw new HubError('CONFIG_INVALID', `CREMA_ADMIN_PASSWORD is too easy to guess: ${weakness}`);
  }
  const generated = password === undefined;
  password ??= randomBytes(18).toString('base64url');
  const hash = await deps.passwords.hash(password);
  const now = deps.clock.now();
  const id = ulid();
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('users')
      .values({
        id,
        merchant_id: null,
        email,
        name: 'Superadmin',
        role: 'superadmin',
        password_hash: hash,
        password_changed_at: now,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await deps.audit.record(trx, {
      actor: null,
      ip: null,
      action: 'user.bootstrap_superadmin',
      targetType: 'user',
      targetId: id,
      merchantId: null,
    });
  });
  if (generated) {
    options.announce(
      `Created superadmin ${email} with generated password: ${password}  (shown once; change it after logging in)`,
    );
  }
  return email;
}
