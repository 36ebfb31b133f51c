import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorCodeOf, type KeyStatement, signKeyStatement, type TrustedKey } from '@crema/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultRecipeSet } from '../../orders/default-recipe-set';
import { Store } from '../../store/store';
import { FakeClock } from '../../time/fake-clock';
import { AgentTrust } from './agent-trust';
import { trustedKeyFromPem } from './first-key';

/** A hub key as the hub names it (kid from the SPKI DER), with its private half. */
function hubKey(): { key: KeyObject; trusted: TrustedKey; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { key: privateKey, trusted: trustedKeyFromPem(pem), pem };
}
const k0 = hubKey();
const k1 = hubKey();
const k2 = hubKey();
const statement = (signer: typeof k0, s: Omit<KeyStatement, 'type' | 'issuedAt'>) =>
  signKeyStatement({ type: 'crema-key-statement', issuedAt: 1, ...s }, signer.key, signer.trusted.kid);

describe('agent trust store', () => {
  const dirs: string[] = [];
  const open = (dir: string) =>
    Store.open({
      dataDir: dir,
      deviceId: 'dev-trust',
      outboxMaxBytes: 1 << 20,
      clock: new FakeClock(1_700_000_000_000),
      defaults: defaultRecipeSet('EUR'),
    });
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'crema-agent-trust-'));
    dirs.push(d);
    return d;
  };

  it('starts from the configured hub key, named as the hub names it', () => {
    const store = open(tempDir());
    const trust = new AgentTrust(store.settings, k0.pem);
    trust.start();
    expect(trust.current()).toEqual({ keys: [k0.trusted], revoked: [] });
    expect(k0.trusted.kid).toMatch(/^hub-[0-9a-f]{16}$/);
    const none = new AgentTrust(store.settings, undefined);
    none.start();
    expect(none.current().keys).toEqual([]);
    store.close();
  });

  it('applies a rotation, keeps it across a restart, and refuses the revoked key forever', async () => {
    const dir = tempDir();
    let store = open(dir);
    const trust = new AgentTrust(store.settings, k0.pem);
    trust.start();
    const rotation = await statement(k0, { add: k1.trusted, revoke: [k0.trusted.kid] });
    const change = await trust.prepare([rotation]);
    expect(trust.current().keys).toEqual([k0.trusted]);
    trust.commit(change.store);
    expect(change).toMatchObject({ applied: 1, skipped: 0 });
    store.close();

    store = open(dir);
    // The configuration still names k0: a revoked key is not taken back from it.
    const again = new AgentTrust(store.settings, k0.pem);
    again.start();
    expect(again.current()).toEqual({ keys: [k1.trusted], revoked: [k0.trusted.kid] });
    // The same chain again is skipped; a statement by the revoked key that adds a key is refused.
    expect(await again.prepare([rotation])).toMatchObject({ applied: 0, skipped: 1 });
    const rogue = await statement(k0, { add: k2.trusted, revoke: [] });
    expect(errorCodeOf(await again.prepare([rotation, rogue]).catch((e) => e))).toBe('UPDATE_KEY_REVOKED');
    expect(again.current().keys).toEqual([k1.trusted]);
    store.close();
  });

  it('catches up along a chain, and skips links older than its first key', async () => {
    const s1 = await statement(k0, { add: k1.trusted, revoke: [k0.trusted.kid] });
    const s2 = await statement(k1, { add: k2.trusted, revoke: [k1.trusted.kid] });
    const store = open(tempDir());
    const behind = new AgentTrust(store.settings, k0.pem);
    behind.start();
    const caught = await behind.prepare([s1, s2]);
    expect(caught.store).toEqual({ keys: [k2.trusted], revoked: [k0.trusted.kid, k1.trusted.kid] });
    // A device given k1 first (provisioned after the first rotation) skips s1 and applies s2.
    const later = new AgentTrust({ get: () => undefined, set: () => {} }, k1.pem);
    later.start();
    expect(await later.prepare([s1, s2])).toMatchObject({
      applied: 1,
      skipped: 1,
      store: { keys: [k2.trusted], revoked: [k1.trusted.kid] },
    });
    // Out of order, s2 cannot be verified by a device that only knows k0.
    expect(errorCodeOf(await behind.prepare([s2]).catch((e) => e))).toBe('UPDATE_KEY_UNKNOWN');
    store.close();
  });
});
