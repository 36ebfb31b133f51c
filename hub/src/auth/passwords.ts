import { z } from 'zod';
import { HubError } from '../errors';
import { MIN_PASSWORD_LENGTH, type PasswordContext, passwordWeakness } from './password-policy';
import { hashSecret, PASSWORD_PARAMS, type ScryptParams, verifySecret } from './scrypt';

/**
 * A new password: long enough and not what guessing tools try first (see `passwordWeakness`); no
 * composition rules (NIST SP 800-63B). Routes that know the account also call `assertStrongPassword` with
 * its email and name.
 */
export const PasswordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(256)
  .superRefine((password, ctx) => {
    const weakness = password.length < MIN_PASSWORD_LENGTH ? null : passwordWeakness(password);
    if (weakness) ctx.addIssue({ code: 'custom', message: `too easy to guess: ${weakness}` });
  });

/** Refuses a password built from the account's own email or name (or otherwise weak), as VALIDATION_FAILED. */
export function assertStrongPassword(password: string, context: PasswordContext, field = 'password'): void {
  const weakness = passwordWeakness(password, context);
  if (weakness === null) return;
  const message = `too easy to guess: ${weakness}`;
  throw new HubError('VALIDATION_FAILED', `the password is ${message}`, {
    details: new z.ZodError([{ code: 'custom', path: [field], message, input: undefined }]),
  });
}

export class PasswordHasher {
  private decoy: Promise<string> | undefined;
  constructor(private readonly params: ScryptParams = PASSWORD_PARAMS) {}

  hash(password: string): Promise<string> {
    return hashSecret(password, this.params);
  }

  verify(password: string, encoded: string): Promise<boolean> {
    return verifySecret(password, encoded);
  }

  /** Burns the same work as a real check, for unknown users, so timing does not reveal who exists. */
  async verifyDecoy(password: string): Promise<false> {
    this.decoy ??= this.hash('decoy password for unknown users');
    await verifySecret(password, await this.decoy);
    return false;
  }
}
