import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PublicJwkSchema, signBytes, type TrustedKey } from '@crema/protocol';
import { HubError } from '../../errors';

/** The hub's Ed25519 key that signs recipe bundles; machines verify with the public half. */
export class SigningKey {
  readonly keyId: string;
  readonly publicKeyPem: string;

  constructor(private readonly privateKey: KeyObject) {
    if (privateKey.asymmetricKeyType !== 'ed25519') {
      throw new HubError('CONFIG_INVALID', 'the signing key must be an Ed25519 private key');
    }
    const pub = createPublicKey(privateKey);
    this.publicKeyPem = pub.export({ type: 'spki', format: 'pem' }).toString();
    const der = pub.export({ type: 'spki', format: 'der' });
    this.keyId = `hub-${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
  }

  /** A fresh key that lives only in memory (tests, demo databases). */
  static generate(): SigningKey {
    return new SigningKey(generateKeyPairSync('ed25519').privateKey);
  }

  /** The public half as a device trust-store entry (docs/protocol.md §15). */
  get trusted(): TrustedKey {
    const { kty, crv, x } = createPublicKey(this.privateKey).export({ format: 'jwk' });
    return { kid: this.keyId, jwk: PublicJwkSchema.parse({ kty, crv, x }) };
  }

  /** Signs exact bytes as a compact JWS (EdDSA) under this key's id: update manifests, key statements. */
  signJws(bytes: Uint8Array, typ: string): Promise<string> {
    return signBytes(bytes, this.privateKey, this.keyId, typ);
  }

  /** The private half as PKCS#8 PEM, for the key file a rotation writes (never logged, never served). */
  privatePem(): string {
    return this.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  sign(data: string): string {
    return sign(null, Buffer.from(data, 'utf8'), this.privateKey).toString('base64');
  }
}

/** Checks an Ed25519 signature (base64) over `data` with a PEM public key. */
export function verifySignature(publicKeyPem: string, data: string, signature: string): boolean {
  try {
    return verify(
      null,
      Buffer.from(data, 'utf8'),
      createPublicKey(publicKeyPem),
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}

/**
 * `CREMA_SIGNING_KEY` (a PKCS#8 PEM) when set; otherwise a key generated once into `<dataDir>/signing-key.pem`
 * with mode 0600, so bundles stay verifiable across restarts without anyone handling a secret.
 */
export function loadSigningKey(dataDir: string, fromEnv: string | undefined): SigningKey {
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    try {
      return new SigningKey(createPrivateKey(fromEnv));
    } catch (err) {
      if (err instanceof HubError) throw err;
      throw new HubError('CONFIG_INVALID', 'CREMA_SIGNING_KEY is not a PKCS#8 PEM private key', {
        cause: err,
      });
    }
  }
  const file = join(dataDir, 'signing-key.pem');
  if (existsSync(file)) return new SigningKey(createPrivateKey(readFileSync(file, 'utf8')));
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return new SigningKey(privateKey);
}
