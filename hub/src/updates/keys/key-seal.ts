import { createCipheriv, createDecipheriv, createPrivateKey, hkdfSync, randomBytes } from 'node:crypto';
import { HubError } from '../../errors';
import { SigningKey } from '../../operations/recipes/signing-key';

const VERSION = 'v1';

/**
 * Seals rotated private keys for the database with a key-encryption key derived (HKDF-SHA256) from
 * `CREMA_KEY_ENCRYPTION_KEY`: AES-256-GCM, the key id as associated data, so a sealed key is bound to its row.
 * Every hub process with the same secret can open what another sealed; the secret never enters the store.
 */
export class KeySealer {
  private readonly kek: Buffer;

  constructor(secret: string) {
    if (Buffer.byteLength(secret) < 32)
      throw new HubError('CONFIG_INVALID', 'CREMA_KEY_ENCRYPTION_KEY must be at least 32 bytes');
    this.kek = Buffer.from(hkdfSync('sha256', secret, 'crema-signing-keys', VERSION, 32));
  }

  /** `CREMA_KEY_ENCRYPTION_KEY` when set; otherwise none (rotated keys stay in files). */
  static fromEnv(env: NodeJS.ProcessEnv): KeySealer | undefined {
    const secret = env.CREMA_KEY_ENCRYPTION_KEY;
    return secret === undefined || secret === '' ? undefined : new KeySealer(secret);
  }

  seal(key: SigningKey): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.kek, iv).setAAD(Buffer.from(key.keyId));
    const body = Buffer.concat([
      cipher.update(key.privatePem(), 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `${VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  open(kid: string, sealed: string): SigningKey {
    const [version, iv = '', body = ''] = sealed.split('.');
    const bytes = Buffer.from(body, 'base64url');
    try {
      if (version !== VERSION) throw new Error(`unknown seal ${version}`);
      const decipher = createDecipheriv('aes-256-gcm', this.kek, Buffer.from(iv, 'base64url'))
        .setAAD(Buffer.from(kid))
        .setAuthTag(bytes.subarray(bytes.length - 16));
      const pem = Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]);
      const key = new SigningKey(createPrivateKey(pem.toString('utf8')));
      if (key.keyId !== kid) throw new Error('the sealed key is not the one its row names');
      return key;
    } catch (cause) {
      throw new HubError(
        'CONFIG_INVALID',
        `signing key ${kid} cannot be unsealed: CREMA_KEY_ENCRYPTION_KEY differs from the hub that rotated it`,
        { cause },
      );
    }
  }
}
