import { createHash, createPublicKey } from 'node:crypto';
import { PublicJwkSchema, type TrustedKey } from '@crema/protocol';
import { AgentError } from '../../errors';

/**
 * The device's first trusted key, from the SPKI PEM its configuration carries (`hub.publicKey`, what the hub
 * shows at `GET /api/v1/recipe-sets/signing-key`). Its key id is computed exactly as the hub's: `hub-` and
 * the first 16 hex digits of the sha256 of the SPKI DER, so the kid in the hub's JWS headers matches.
 */
export function trustedKeyFromPem(pem: string): TrustedKey {
  let key: ReturnType<typeof createPublicKey>;
  try {
    key = createPublicKey(pem);
  } catch (cause) {
    throw new AgentError('CONFIG_INVALID', 'the hub public key is not an SPKI PEM', { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new AgentError('CONFIG_INVALID', 'the hub public key must be an Ed25519 key');
  const der = key.export({ type: 'spki', format: 'der' });
  const kid = `hub-${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
  const { kty, crv, x } = key.export({ format: 'jwk' });
  return { kid, jwk: PublicJwkSchema.parse({ kty, crv, x }) };
}
