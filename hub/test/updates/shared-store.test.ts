import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  applyKeyStatement,
  artifactPath,
  type TrustedKey,
  type TrustStore,
  verifyManifest,
} from '@crema/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClusterBus } from '../../src/composition/cluster';
import type { MqttGateway } from '../../src/mqtt/gateway';
import { createOpsContext } from '../../src/operations/context';
import { OpsEventBus } from '../../src/operations/events/bus';
import { SigningKey } from '../../src/operations/recipes/signing-key';
import type { ArtifactUsage } from '../../src/updates/artifact-usage';
import { KeySealer } from '../../src/updates/keys/key-seal';
import { SigningKeyring } from '../../src/updates/keys/keyring';
import { type SyncHub, startSyncHub } from '../device-channel/support/hub';
import { SteppedClock } from '../support/clock';
import { BACKENDS, openTestDb, TEST_PG_URL } from '../support/db';

/** Every artifact offered to every device: this file is about where bytes and keys live, not rollouts. */
const everything: ArtifactUsage = { inUse: async () => false, offeredTo: async () => true };
const KEK = { CREMA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
/** What every process of one hub shares (hub/README.md "Scaling out"): the first key and the sealing secret. */
const SharedPem = SigningKey.generate().privatePem();
const SHARED_ENV = { ...KEK, CREMA_SIGNING_KEY: SharedPem };

type KeyList = {
  current: string;
  keys: (TrustedKey & { status: string })[];
  statements: { jws: string }[];
};

/**
 * Two hub processes on one PostgreSQL store, with data directories of their own (nothing shared on disk):
 * an artifact uploaded through one is downloaded, resumed with a Range, from the other; a key rotated on one
 * signs the other's next manifest, and a device that applied the rotation verifies it.
 */
describe.each(BACKENDS.filter((b) => b === 'postgres'))('two hubs on one %s store', (backend) => {
  let a: SyncHub;
  let b: SyncHub;
  beforeAll(async () => {
    a = await startSyncHub(backend, { artifactUsage: everything, env: SHARED_ENV });
    b = await startSyncHub(backend, {
      artifactUsage: everything,
      env: SHARED_ENV,
      schema: a.schema,
      password: a.password,
    });
  }, 60_000);
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  const upload = async (h: SyncHub, bytes: Uint8Array, version: string) => {
    const query = new URLSearchParams({
      kind: 'brewer-firmware',
      version,
      models: 'CM-1',
      minVersion: '1.0.0',
    });
    const res = await fetch(`${h.at.http}/api/v1/artifacts?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { sha256: string; manifest: string; signedKid: string };
  };
  const keys = async (h: SyncHub) => (await h.api('GET', '/api/v1/signing-keys')).body as KeyList;

  it('serves an artifact uploaded through hub A from hub B, whole and from a Range', async () => {
    const image = new Uint8Array(randomBytes(1_200_000));
    const stored = await upload(a, image, '2.0.0');
    expect(stored.sha256).toBe(createHash('sha256').update(image).digest('hex'));
    const secret = await b.register('cm-shared-1');
    const auth = { authorization: `Basic ${Buffer.from(`cm-shared-1:${secret}`).toString('base64')}` };
    const whole = await fetch(`${b.at.http}${artifactPath(stored.sha256)}`, { headers: auth });
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(Buffer.from(image))).toBe(true);
    const from = 700_001; // not on a chunk boundary
    const rest = await fetch(`${b.at.http}${artifactPath(stored.sha256)}`, {
      headers: { ...auth, range: `bytes=${from}-` },
    });
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(`bytes ${from}-${image.length - 1}/${image.length}`);
    expect(Buffer.from(await rest.arrayBuffer()).equals(Buffer.from(image.subarray(from)))).toBe(true);
  });

  it('signs on hub B with a key rotated on hub A, without a restart; a device that applied the rotation verifies it', async () => {
    const before = await keys(b);
    const old = before.keys.find((k) => k.kid === before.current);
    if (!old) throw new Error('no current key');
    const device: TrustStore = { keys: [{ kid: old.kid, jwk: old.jwk }], revoked: [] };
    // B signed with the first key (and so holds it in memory).
    const early = await upload(b, new Uint8Array(randomBytes(5000)), '2.1.0');
    expect(early.signedKid).toBe(old.kid);

    const rotated = await a.api('POST', '/api/v1/signing-keys/rotate', { keepPrevious: false });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(201);
    const next = rotated.body.current as string;
    expect(next).not.toBe(old.kid);
    const statement = (await keys(a)).statements.at(-1)?.jws ?? '';
    const trusting = await applyKeyStatement(device, statement);

    const late = await upload(b, new Uint8Array(randomBytes(5000)), '2.2.0');
    expect(late.signedKid).toBe(next);
    expect((await verifyManifest(late.manifest, trusting)).kid).toBe(next);
    // The first key is revoked: the device refuses what it signed.
    await expect(verifyManifest(early.manifest, trusting)).rejects.toThrow();
    // B's published key follows too, and B may itself rotate next (it is not "behind").
    expect((await b.api('GET', '/api/v1/recipe-sets/signing-key')).body.keyId).toBe(next);
    const again = await b.api('POST', '/api/v1/signing-keys/rotate', { keepPrevious: true });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect((await keys(a)).current).toBe(again.body.current);
  });
});

describe.each(BACKENDS)('rotated keys in the %s store', (backend) => {
  const clock = new SteppedClock();
  const log = pino({ level: 'silent' });
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'crema-keys-'));
    dirs.push(d);
    return d;
  };

  it('seals a rotated key for the other processes, and refuses to rotate unsealed when shared', async () => {
    const t = await openTestDb(backend);
    try {
      const ctx = createOpsContext(t.db.kysely, t.db.kind, clock);
      const base = (await SigningKeyring.open(t.db.kysely, dir(), undefined, clock.now(), log)).current();
      const pem = base.privatePem();
      const sealer = new KeySealer(KEK.CREMA_KEY_ENCRYPTION_KEY);
      const shared = await SigningKeyring.open(t.db.kysely, dir(), pem, clock.now(), log, { shared: true });
      await expect(shared.rotate(ctx, { userId: 'u' }, true)).rejects.toMatchObject({ code: 'UNAVAILABLE' });

      const one = await SigningKeyring.open(t.db.kysely, dir(), pem, clock.now(), log, {
        sealer,
        shared: true,
      });
      const change = await one.rotate(ctx, { userId: 'u' }, true);
      one.adopt(change);
      const row = await t.db.kysely
        .selectFrom('signing_keys')
        .select('private_sealed')
        .where('kid', '=', change.next.keyId)
        .executeTakeFirstOrThrow();
      expect(row.private_sealed).not.toContain('PRIVATE KEY');
      // Another process (its own data directory) starts with the rotated key; with another secret it cannot.
      const other = await SigningKeyring.open(t.db.kysely, dir(), pem, clock.now(), log, { sealer });
      expect(other.current().keyId).toBe(change.next.keyId);
      const wrong = new KeySealer(randomBytes(32).toString('hex'));
      await expect(
        SigningKeyring.open(t.db.kysely, dir(), pem, clock.now(), log, { sealer: wrong }),
      ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      await expect(SigningKeyring.open(t.db.kysely, dir(), pem, clock.now(), log)).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
      });
    } finally {
      await t.cleanup();
    }
  });
});

describe.each(BACKENDS.filter((b) => b === 'postgres'))(
  'a key change over the cluster bus on %s',
  (backend) => {
    it('reaches the other process at once, before it signs anything', async () => {
      const t = await openTestDb(backend);
      const clock = new SteppedClock();
      const log = pino({ level: 'silent' });
      // The bus only needs the gateway's offline events here.
      const gateway = { events: { on: () => () => undefined }, fleet: {} } as unknown as MqttGateway;
      const sealer = new KeySealer(KEK.CREMA_KEY_ENCRYPTION_KEY);
      const dirs = [mkdtempSync(join(tmpdir(), 'crema-bus-a-')), mkdtempSync(join(tmpdir(), 'crema-bus-b-'))];
      const pem = SharedPem;
      const ctx = createOpsContext(t.db.kysely, t.db.kind, clock);
      const open = (dir: string) =>
        SigningKeyring.open(t.db.kysely, dir, pem, clock.now(), log, { sealer, shared: true });
      const [ka, kb] = [await open(dirs[0] as string), await open(dirs[1] as string)];
      const bus = (processId: string, keyring: SigningKeyring) =>
        buildClusterBus({
          url: TEST_PG_URL,
          db: t.db,
          processId,
          clock,
          logger: log,
          bus: new OpsEventBus(),
          gateway,
          keyring,
          ctx,
        });
      const [ba, bb] = [bus('a', ka), bus('b', kb)];
      try {
        await ba.start();
        await bb.start();
        const first = kb.current().keyId;
        const change = await t.db.kysely
          .transaction()
          .execute((tx) => ka.rotate({ ...ctx, db: tx }, { userId: 'u' }, true));
        ka.adopt(change);
        const until = Date.now() + 5000;
        while (kb.current().keyId === first && Date.now() < until)
          await new Promise((r) => setTimeout(r, 20));
        expect(kb.current().keyId).toBe(change.next.keyId);
      } finally {
        await ba.stop();
        await bb.stop();
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
        await t.cleanup();
      }
    });
  },
);
