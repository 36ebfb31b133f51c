import { normalizeClaimCode } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAIM_LIMITS, DeviceClaims } from '../../src/devices/claim';
import { CLAIM_TTL, generateClaimCode } from '../../src/devices/claim-codes';
import { verifyDeviceCredential } from '../../src/devices/credentials';
import { DeviceSessions } from '../../src/devices/sessions';
import { createTestApi, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';

const CLAIM = '/api/v1/device/claim';
let seq = 0;
const deviceId = () => `claimed-${process.pid}-${++seq}`;

describe('claim code format', () => {
  it('has 80 random bits in Crockford base32 and reads back typed loosely', () => {
    const codes = new Set(Array.from({ length: 200 }, generateClaimCode));
    expect(codes.size).toBe(200);
    for (const code of codes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{16}$/);
    expect(normalizeClaimCode('7k3m-qx2a 9pzr-d4ht')).toBe('7K3MQX2A9PZRD4HT');
    expect(normalizeClaimCode('OIL0-0000-0000-0000')).toBe('0110000000000000');
    expect(normalizeClaimCode('7K3M-QX2A-9PZR-D4H')).toBeUndefined();
    expect(normalizeClaimCode('7K3M-QX2A-9PZR-D4HU')).toBeUndefined();
  });
});

describe.each(BACKENDS)('claim codes on %s', (backend) => {
  let t: TestApi;
  let locationA: string;
  let locationB: string;
  beforeAll(async () => {
    t = await createTestApi(backend);
    locationA = await t.addLocation(t.fx.merchantA);
    locationB = await t.addLocation(t.fx.merchantB);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const admin = () => t.fx.usersA.merchant_admin;
  async function issue(body: Record<string, unknown> = {}, token = admin().token) {
    const res = await t.request('POST', '/api/v1/claim-codes', {
      token,
      body: { locationId: locationA, ...body },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as {
      code: string;
      claimCode: { id: string; status: string; expiresAt: number };
    };
  }
  const claim = (body: Record<string, unknown>, ip = '198.51.100.1') =>
    t.request('POST', CLAIM, { body, ip });

  it('issues a code once, registers the claiming machine with its own credential, and lists who used it', async () => {
    const issued = await issue({ note: 'counter left' });
    expect(issued.code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(issued.claimCode.status).toBe('pending');
    expect(issued.claimCode.expiresAt - t.clock.now()).toBe(CLAIM_TTL.defaultMs);
    // Stored hashed: the code text appears nowhere in the table or the audit log.
    const stored = JSON.stringify(await t.deps.db.kysely.selectFrom('claim_codes').selectAll().execute());
    const audit = JSON.stringify(await t.deps.db.kysely.selectFrom('audit_log').selectAll().execute());
    const canonical = issued.code.replaceAll('-', '');
    for (const text of [stored, audit]) {
      expect(text).not.toContain(canonical);
      expect(text).not.toContain(issued.code);
    }

    const id = deviceId();
    const res = await claim({
      code: issued.code.toLowerCase(),
      deviceId: id,
      model: 'cm-1',
      firmwareVersion: '1.2.3',
    });
    expect(res.status).toBe(201);
    const answer = await res.json();
    expect(answer).toMatchObject({ deviceId: id, merchantId: t.fx.merchantA, locationId: locationA });
    expect(await verifyDeviceCredential(t.deps.db, id, answer.credential)).toEqual({
      merchantId: t.fx.merchantA,
    });

    const device = await t.request('GET', `/api/v1/devices/${id}`, { token: admin().token });
    expect(await device.json()).toMatchObject({
      merchantId: t.fx.merchantA,
      locationId: locationA,
      model: 'cm-1',
    });
    const listed = await (
      await t.request('GET', '/api/v1/claim-codes?status=claimed', { token: admin().token })
    ).json();
    expect(listed.items.find((c: { id: string }) => c.id === issued.claimCode.id)).toMatchObject({
      status: 'claimed',
      claimedDeviceId: id,
      claimedIp: '198.51.100.1',
    });
    const entry = await t.deps.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'device.claim')
      .where('target_id', '=', id)
      .executeTakeFirstOrThrow();
    expect([entry.actor_user_id, entry.ip, entry.merchant_id]).toEqual([
      null,
      '198.51.100.1',
      t.fx.merchantA,
    ]);

    // Used once: the same code again, for another id, is refused like any unusable code.
    const again = await claim({ code: issued.code, deviceId: deviceId(), model: 'cm-1' });
    expect([again.status, (await again.json()).code]).toEqual([403, 'CLAIM_CODE_INVALID']);
  });

  it('answers expired, revoked, unknown and mismatched codes alike', async () => {
    const expired = await issue({ ttlMs: CLAIM_TTL.minMs });
    const revoked = await issue();
    const pinned = await issue({ deviceId: 'pinned-machine', model: 'cm-2' });
    const rev = await t.request('POST', `/api/v1/claim-codes/${revoked.claimCode.id}/revoke`, {
      token: admin().token,
    });
    expect(rev.status).toBe(200);
    expect((await rev.json()).status).toBe('revoked');
    t.clock.advance(CLAIM_TTL.minMs);
    const answers = [];
    for (const body of [
      { code: expired.code, deviceId: deviceId(), model: 'cm-1' },
      { code: revoked.code, deviceId: deviceId(), model: 'cm-1' },
      { code: generateClaimCode(), deviceId: deviceId(), model: 'cm-1' },
      { code: pinned.code, deviceId: deviceId(), model: 'cm-2' },
      { code: pinned.code, deviceId: 'pinned-machine', model: 'cm-1' },
    ]) {
      const res = await claim(body, '198.51.100.2');
      answers.push([res.status, await res.json()]);
    }
    for (const [status, body] of answers) {
      expect(status).toBe(403);
      expect(body.code).toBe('CLAIM_CODE_INVALID');
      expect(body.detail).toBe(answers[0]?.[1].detail);
    }
    const list = await (
      await t.request('GET', '/api/v1/claim-codes?limit=500', { token: admin().token })
    ).json();
    const statusOf = (id: string) => list.items.find((c: { id: string }) => c.id === id)?.status;
    expect([
      statusOf(expired.claimCode.id),
      statusOf(revoked.claimCode.id),
      statusOf(pinned.claimCode.id),
    ]).toEqual(['expired', 'revoked', 'pending']);
    const refused = await t.request('POST', `/api/v1/claim-codes/${expired.claimCode.id}/revoke`, {
      token: admin().token,
    });
    expect((await refused.json()).code).toBe('INVALID_TRANSITION');
    // The pinned code still works for its machine.
    expect(
      (await claim({ code: pinned.code, deviceId: 'pinned-machine', model: 'cm-2' }, '198.51.100.2')).status,
    ).toBe(201);
  });

  it('refuses a taken device id without telling whose, and keeps the code usable', async () => {
    const other = await t.addDevice(t.fx.merchantB, { locationId: locationB });
    const issued = await issue();
    const res = await claim({ code: issued.code, deviceId: other.id, model: 'cm-1' }, '198.51.100.3');
    const body = await res.json();
    expect([res.status, body.code]).toEqual([409, 'CONFLICT']);
    expect(JSON.stringify(body)).not.toContain(t.fx.merchantB);
    expect(
      (await claim({ code: issued.code, deviceId: deviceId(), model: 'cm-1' }, '198.51.100.3')).status,
    ).toBe(201);
  });

  it('lets exactly one of two concurrent claims of one code win', async () => {
    const issued = await issue();
    const ids = [deviceId(), deviceId(), deviceId(), deviceId()];
    const answers = await Promise.all(
      ids.map((id, i) => claim({ code: issued.code, deviceId: id, model: 'cm-1' }, `198.51.100.${10 + i}`)),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 403, 403, 403]);
    const registered = await t.deps.db.kysely
      .selectFrom('devices')
      .select('id')
      .where('id', 'in', ids)
      .execute();
    expect(registered).toHaveLength(1);
  });

  it('keeps merchants apart: another merchant cannot issue for my location, list or revoke my codes', async () => {
    const mine = await issue();
    const otherAdmin = t.fx.usersB.merchant_admin.token;
    const cross = await t.request('POST', '/api/v1/claim-codes', {
      token: otherAdmin,
      body: { locationId: locationA },
    });
    expect(cross.status).toBe(404);
    const list = await (
      await t.request('GET', '/api/v1/claim-codes?limit=500', { token: otherAdmin })
    ).json();
    expect(JSON.stringify(list)).not.toContain(mine.claimCode.id);
    const rev = await t.request('POST', `/api/v1/claim-codes/${mine.claimCode.id}/revoke`, {
      token: otherAdmin,
    });
    expect(rev.status).toBe(404);
    const tooLong = await t.request('POST', '/api/v1/claim-codes', {
      token: admin().token,
      body: { locationId: locationA, ttlMs: CLAIM_TTL.maxMs + 1 },
    });
    expect(tooLong.status).toBe(400);
  });

  it('rate-limits claims per address (429 with Retry-After), in the shared store', async () => {
    const ip = '203.0.113.77';
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await claim({ code: generateClaimCode(), deviceId: deviceId(), model: 'cm-1' }, ip);
      statuses.push(res.status);
    }
    expect(new Set(statuses)).toEqual(new Set([403]));
    const last = await claim({ code: generateClaimCode(), deviceId: deviceId(), model: 'cm-1' }, ip);
    expect(last.status).toBe(429);
    expect(last.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await last.json()).code).toBe('RATE_LIMITED');
    // Even a valid code waits: the limit is on attempts, not on failures.
    const issued = await issue();
    expect((await claim({ code: issued.code, deviceId: deviceId(), model: 'cm-1' }, ip)).status).toBe(429);
    // A second hub process (another DeviceClaims over the same store) sees the same count.
    const second = new DeviceClaims({
      db: t.deps.db.kysely,
      clock: t.clock,
      audit: t.deps.audit,
      deviceSessions: new DeviceSessions(),
    });
    await expect(
      second.claim({ code: issued.code.replaceAll('-', ''), deviceId: deviceId(), model: 'cm-1' }, ip),
    ).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
  });

  it('rate-limits claims platform-wide', async () => {
    // Past every window the earlier tests opened, so only this test's attempts count.
    t.clock.advance(CLAIM_LIMITS.windowMs + 1);
    const claims = new DeviceClaims({
      db: t.deps.db.kysely,
      clock: t.clock,
      audit: t.deps.audit,
      deviceSessions: new DeviceSessions(),
      limits: { windowMs: 60_000, perAccount: 100, perAddress: 100, global: 3 },
    });
    const attempt = (i: number) =>
      claims.claim({ code: generateClaimCode(), deviceId: deviceId(), model: 'cm-1' }, `192.0.2.${100 + i}`);
    for (let i = 0; i < 3; i++)
      await expect(attempt(i)).rejects.toMatchObject({ code: 'CLAIM_CODE_INVALID' });
    await expect(attempt(9)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('validates the claim body', async () => {
    const bad = await claim({ code: 'not a code', deviceId: 'x', model: 'cm-1' }, '198.51.100.99');
    expect([bad.status, (await bad.json()).code]).toEqual([400, 'VALIDATION_FAILED']);
    const notJson = await t.request('POST', CLAIM, { rawBody: '{', ip: '198.51.100.99' });
    expect((await notJson.json()).code).toBe('MALFORMED_JSON');
  });
});
