import { z } from 'zod';
import { hashSecret, PASSWORD_PARAMS, type ScryptParams, verifySecret } from './scrypt';

/** Length is what makes a password strong; no composition rules (NIST SP 800-63B). */
export const PasswordSchema = z.string().min(12, 'at least 12 characters').max(256);

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
