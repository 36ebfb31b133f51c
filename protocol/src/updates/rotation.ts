import { ProtocolError } from '../errors';
import { KEY_STATEMENT_TYP, type SigningKey, signBytes, verifySigned } from './signing';
import { type KeyStatement, KeyStatementSchema, type TrustStore } from './trust';

export const signKeyStatement = (statement: KeyStatement, key: SigningKey, kid: string) =>
  signBytes(
    new TextEncoder().encode(JSON.stringify(KeyStatementSchema.parse(statement))),
    key,
    kid,
    KEY_STATEMENT_TYP,
  );

/**
 * Applies a signed key statement and returns the new store; the given store is never changed. Refused: a
 * statement not signed by a trusted, unrevoked key; adding a revoked key id; adding a known kid with another
 * key; a result with no usable key left (the device could never be updated again).
 */
export async function applyKeyStatement(store: TrustStore, jws: string): Promise<TrustStore> {
  const { value: s } = await verifySigned(jws, store, KEY_STATEMENT_TYP, KeyStatementSchema);
  const revoked = [...new Set([...store.revoked, ...s.revoke])];
  let keys = store.keys.filter((k) => !revoked.includes(k.kid));
  if (s.add) {
    const { add } = s;
    if (revoked.includes(add.kid)) throw new ProtocolError('UPDATE_KEY_REVOKED', `key ${add.kid} is revoked`);
    const known = keys.find((k) => k.kid === add.kid);
    if (known && known.jwk.x !== add.jwk.x)
      throw new ProtocolError('CONFLICT', `key id ${add.kid} is already bound to another key`);
    if (!known) keys = [...keys, add];
  }
  if (keys.length === 0)
    throw new ProtocolError('VALIDATION_FAILED', 'the statement would leave no trusted key');
  if (keys.length > 8) throw new ProtocolError('VALIDATION_FAILED', 'a trust store holds at most 8 keys');
  return { keys, revoked };
}
