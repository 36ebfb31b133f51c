import { randomBytes } from 'node:crypto';
import { applyKeyStatement, type TrustedKey, type TrustStore, verifyManifest } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';

type KeyList = {
  current: string;
  keys: (TrustedKey & { status: string })[];
  statements: { seq: number; jws: string; signerKid: string; addedKid: string | null; revoked: string[] }[];
};

/** Rotation and revocation through the admin API (in process): statements, re-signed manifests, refusals. */
describe.each(BACKENDS)('signing keys on %s', (backend) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });
  const root = () => ({ token: t.fx.superadmin.token });
  const keys = async () => (await (await t.request('GET', '/api/v1/signing-keys', root())).json()) as KeyList;
  const trusted = (list: KeyList, kid: string): TrustedKey => {
    const k = list.keys.find((x) => x.kid === kid);
    if (!k) throw new Error(`no key ${kid}`);
    return { kid: k.kid, jwk: k.jwk };
  };

  it('rotates with a statement a device applies, signs stored manifests again, and refuses bad revocations', async () => {
    const upload = await t.request(
      'POST',
      `/api/v1/artifacts?kind=agent&version=2.0.0&models=CM-1&minVersion=1.0.0`,
      {
        ...root(),
        rawBody: randomBytes(300).toString('hex'),
        headers: { 'content-type': 'application/octet-stream' },
      },
    );
    expect(upload.status).toBe(201);
    const artifact = (await upload.json()) as { sha256: string; manifest: string };
    const first = (await keys()).current;
    const device: TrustStore = { keys: [trusted(await keys(), first)], revoked: [] };
    expect((await verifyManifest(artifact.manifest, device)).kid).toBe(first);

    // keepPrevious: the old key stays trusted until revoked.
    const kept = await t.request('POST', '/api/v1/signing-keys/rotate', {
      ...root(),
      body: { keepPrevious: true },
    });
    expect(kept.status).toBe(201);
    const second = ((await kept.json()) as { current: string }).current;
    let list = await keys();
    expect(list.current).toBe(second);
    expect(list.keys.find((k) => k.kid === first)?.status).toBe('retired');
    const s1 = list.statements.at(-1);
    expect(s1).toMatchObject({ signerKid: first, addedKid: second, revoked: [] });
    const afterS1 = await applyKeyStatement(device, s1?.jws ?? '');
    expect(afterS1.keys.map((k) => k.kid)).toEqual([first, second]);

    // The stored manifest is now signed by the current key.
    const detail = (await (
      await t.request('GET', `/api/v1/artifacts/${artifact.sha256}`, root())
    ).json()) as {
      manifest: string;
      signedKid: string;
    };
    expect(detail.signedKid).toBe(second);
    expect((await verifyManifest(detail.manifest, afterS1)).kid).toBe(second);

    // Revoking the current key is refused (rotate instead); an unknown kid is 404.
    const current = await t.request('POST', `/api/v1/signing-keys/${second}/revoke`, root());
    expect([current.status, ((await current.json()) as { code: string }).code]).toEqual([
      409,
      'SIGNING_KEY_CURRENT',
    ]);
    const unknown = await t.request('POST', '/api/v1/signing-keys/hub-0000000000000000/revoke', root());
    expect(unknown.status).toBe(404);

    // Revoking the retired key: a statement by the current key; the device then refuses the old key.
    const revoked = await t.request('POST', `/api/v1/signing-keys/${first}/revoke`, root());
    expect(revoked.status).toBe(200);
    list = await keys();
    const s2 = list.statements.at(-1);
    expect(s2).toMatchObject({ signerKid: second, addedKid: null, revoked: [first] });
    const afterS2 = await applyKeyStatement(afterS1, s2?.jws ?? '');
    expect(afterS2).toEqual({ keys: [trusted(list, second)], revoked: [first] });
    await expect(verifyManifest(artifact.manifest, afterS2)).rejects.toMatchObject({
      code: 'UPDATE_KEY_REVOKED',
    });
    const twice = await t.request('POST', `/api/v1/signing-keys/${first}/revoke`, root());
    expect(twice.status).toBe(409);

    // Every change is audited.
    const audit = await t.deps.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('action', 'like', 'signing_key.%')
      .execute();
    expect(audit.map((a) => a.action).sort()).toEqual(['signing_key.revoke', 'signing_key.rotate']);
  });

  it('refuses a merchant admin', async () => {
    const res = await t.request('POST', '/api/v1/signing-keys/rotate', {
      token: t.fx.usersA.merchant_admin.token,
      body: {},
    });
    expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([403, 'FORBIDDEN']);
  });
});
