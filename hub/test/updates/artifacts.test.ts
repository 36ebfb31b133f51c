import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { artifactPath, type TrustStore, verifyManifest } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactUsage } from '../../src/updates/artifact-usage';
import { type ApiAnswer, type SyncHub, startSyncHub } from '../device-channel/support/hub';
import { BACKENDS } from '../support/db';

/** A rollouts module stand-in: which artifacts are in use and which device is offered which. */
class FakeUsage implements ArtifactUsage {
  readonly used = new Set<string>();
  readonly offers = new Set<string>();
  async inUse(sha256: string) {
    return this.used.has(sha256);
  }
  async offeredTo(deviceId: string, sha256: string) {
    return this.offers.has(`${deviceId}/${sha256}`);
  }
}

const LIMIT = 3 * 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Streams `bytes` in 64 KiB chunks with no Content-Length, as a large upload would go. */
function streamed(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(ctrl) {
      if (at >= bytes.length) return ctrl.close();
      ctrl.enqueue(bytes.subarray(at, at + 65536));
      at += 65536;
    },
  });
}

/** Every backend with every artifact store. */
const CASES = BACKENDS.flatMap((backend) => (['fs', 'db'] as const).map((store) => ({ backend, store })));

describe.each(CASES)(
  'artifact store and downloads over HTTP on $backend, $store store',
  ({ backend, store }) => {
    let h: SyncHub;
    const usage = new FakeUsage();
    const dataDir = mkdtempSync(join(tmpdir(), 'crema-artifacts-'));
    const artifactsDir = join(dataDir, 'artifacts');
    const image = new Uint8Array(randomBytes(1_500_000));
    let device: { id: string; secret: string };
    let other: { id: string; secret: string };

    const upload = async (
      bytes: Uint8Array,
      query: Record<string, string>,
      init: { stream?: boolean; token?: string; type?: string } = {},
    ) => {
      const res = await fetch(`${h.at.http}/api/v1/artifacts?${new URLSearchParams(query)}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${init.token ?? h.token}`,
          'content-type': init.type ?? 'application/octet-stream',
        },
        body: init.stream ? streamed(bytes) : bytes,
        ...(init.stream ? { duplex: 'half' } : {}),
      } as RequestInit);
      return { status: res.status, body: (await res.json()) as ApiAnswer['body'] };
    };
    const download = (
      sha256: string,
      who: { id: string; secret: string },
      headers: Record<string, string> = {},
    ) =>
      fetch(`${h.at.http}${artifactPath(sha256)}`, {
        headers: {
          authorization: `Basic ${Buffer.from(`${who.id}:${who.secret}`).toString('base64')}`,
          ...headers,
        },
      });
    /** What the store holds: files (temp files included), or rows (an unfinished upload shows as `pending`). */
    const files = async (): Promise<string[]> => {
      if (store === 'fs') return readdirSync(artifactsDir).sort();
      const rows = await parts()
        .db.kysely.selectFrom('artifact_blobs')
        .select('sha256')
        .where('namespace', '=', '')
        .execute();
      return rows.map((r) => r.sha256 ?? 'pending').sort();
    };
    const parts = () => {
      const p = h.hub.parts;
      if (!p) throw new Error('no hub');
      return p;
    };
    const bytesOf = async (sha256: string): Promise<Buffer> => {
      const parts_: Buffer[] = [];
      for await (const c of (await parts().artifacts.read(sha256)) ?? []) parts_.push(c as Buffer);
      return Buffer.concat(parts_);
    };
    const meta = (version: string, extra: Record<string, string> = {}) => ({
      kind: 'brewer-firmware',
      version,
      models: 'CM-1,CM-2',
      minVersion: '1.0.0',
      notes: 'steadier boiler',
      ...extra,
    });

    beforeAll(async () => {
      h = await startSyncHub(backend, {
        artifactUsage: usage,
        maxArtifactBytes: LIMIT,
        dataDir,
        artifactStore: store,
      });
      device = { id: `cm-art-${backend}-${store}-1`, secret: '' };
      device.secret = await h.register(device.id);
      other = { id: `cm-art-${backend}-${store}-2`, secret: '' };
      other.secret = await h.register(other.id);
    }, 30_000);
    afterAll(async () => {
      await h?.stop();
    });

    let stored = '';
    it('stores an upload under its sha256 with a manifest signed by the hub key', async () => {
      const res = await upload(image, meta('1.5.0', { sha256: sha(image) }), { stream: true });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      stored = res.body.sha256;
      expect(stored).toBe(sha(image));
      expect(res.body).toMatchObject({ size: image.length, models: ['CM-1', 'CM-2'], version: '1.5.0' });
      expect(await files()).toEqual([stored]);
      expect((await bytesOf(stored)).equals(Buffer.from(image))).toBe(true);

      const keys = (await h.api('GET', '/api/v1/signing-keys')).body;
      const current = keys.keys.find((k: { status: string }) => k.status === 'current');
      const trust: TrustStore = { keys: [{ kid: current.kid, jwk: current.jwk }], revoked: [] };
      const verified = await verifyManifest(res.body.manifest, trust);
      expect(verified.value).toMatchObject({ sha256: stored, size: image.length, kind: 'brewer-firmware' });
      expect(res.body.signedKid).toBe(current.kid);

      const detail = await h.api('GET', `/api/v1/artifacts/${stored}`);
      expect(detail.status).toBe(200);
      expect(detail.body.manifest).toBe(res.body.manifest);
      expect(detail.body.downloadPath).toBe(artifactPath(stored));
      const list = await h.api('GET', '/api/v1/artifacts?kind=brewer-firmware');
      expect(list.body.items.map((a: { sha256: string }) => a.sha256)).toEqual([stored]);
      const audit = await h.api('GET', '/api/v1/audit-log?action=artifact.upload');
      expect(JSON.stringify(audit.body)).toContain(stored);
    });

    it('serves it to an offered device, resuming a cut download with Range, byte-identical', async () => {
      usage.offers.add(`${device.id}/${stored}`);
      const first = await download(stored, device, { range: 'bytes=0-499999' });
      expect(first.status).toBe(206);
      expect(first.headers.get('content-range')).toBe(`bytes 0-499999/${image.length}`);
      expect(first.headers.get('etag')).toBe(`"${stored}"`);
      const head = new Uint8Array(await first.arrayBuffer());
      expect(head.length).toBe(500_000);
      const rest = await download(stored, device, {
        range: `bytes=${head.length}-`,
        'if-range': `"${stored}"`,
      });
      expect(rest.status).toBe(206);
      expect(rest.headers.get('content-range')).toBe(`bytes 500000-${image.length - 1}/${image.length}`);
      const tail = new Uint8Array(await rest.arrayBuffer());
      const joined = Buffer.concat([head, tail]);
      expect(sha(joined)).toBe(stored);
      expect(joined.equals(Buffer.from(image))).toBe(true);

      const whole = await download(stored, device);
      expect(whole.status).toBe(200);
      expect(whole.headers.get('content-length')).toBe(String(image.length));
      expect(sha(new Uint8Array(await whole.arrayBuffer()))).toBe(stored);
      const middle = await download(stored, device, { range: 'bytes=10-19' });
      expect(Buffer.from(await middle.arrayBuffer()).equals(Buffer.from(image.subarray(10, 20)))).toBe(true);
    });

    it('answers 416 past the end, 404 to a device it is not offered to, 401 without a credential', async () => {
      const past = await download(stored, device, { range: `bytes=${image.length}-` });
      expect(past.status).toBe(416);
      expect(past.headers.get('content-range')).toBe(`bytes */${image.length}`);
      expect(((await past.json()) as { code: string }).code).toBe('RANGE_NOT_SATISFIABLE');
      const notOffered = await download(stored, other);
      expect(notOffered.status).toBe(404);
      expect(((await notOffered.json()) as { code: string }).code).toBe('NOT_FOUND');
      const wrong = await download(stored, { id: device.id, secret: 'nope' });
      expect(wrong.status).toBe(401);
      const anon = await fetch(`${h.at.http}${artifactPath(stored)}`);
      expect(anon.status).toBe(401);
    });

    it('refuses bytes that do not hash to the declared sha256 and keeps nothing', async () => {
      const bytes = new Uint8Array(randomBytes(200_000));
      const res = await upload(bytes, meta('1.6.0', { sha256: sha(image) }), { stream: true });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe('ARTIFACT_HASH_MISMATCH');
      expect(await files()).toEqual([stored]);
      expect((await h.api('GET', '/api/v1/artifacts')).body.total).toBe(1);
    });

    it('refuses an oversize upload, declared or streamed, and keeps nothing', async () => {
      const big = new Uint8Array(LIMIT + 1);
      const declared = await upload(big, meta('1.7.0'));
      expect(declared.status).toBe(413);
      expect(declared.body.code).toBe('PAYLOAD_TOO_LARGE');
      const chunked = await upload(big, meta('1.7.0'), { stream: true });
      expect(chunked.status).toBe(413);
      expect(chunked.body.code).toBe('PAYLOAD_TOO_LARGE');
      expect(await files()).toEqual([stored]);
      expect((await h.api('GET', '/api/v1/artifacts')).body.total).toBe(1);
    });

    it('refuses bad metadata, another media type and a duplicate, keeping what is stored', async () => {
      const small = new Uint8Array(randomBytes(1000));
      const bad = await upload(small, { ...meta('1.8.0'), version: 'one' });
      expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      const noModels = await upload(small, { ...meta('1.8.0'), models: '' });
      expect([noModels.status, noModels.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      const json = await upload(small, meta('1.8.0'), { type: 'application/json' });
      expect([json.status, json.body.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
      const dupVersion = await upload(small, meta('1.5.0'));
      expect([dupVersion.status, dupVersion.body.code]).toEqual([409, 'CONFLICT']);
      const sameBytes = await upload(image, meta('1.9.0'));
      expect([sameBytes.status, sameBytes.body.code]).toEqual([409, 'CONFLICT']);
      expect(await files()).toEqual([stored]);
      expect((await bytesOf(stored)).equals(Buffer.from(image))).toBe(true);
    });

    it('refuses to delete while a rollout uses it, then deletes bytes and row', async () => {
      usage.used.add(stored);
      const refused = await h.api('DELETE', `/api/v1/artifacts/${stored}`);
      expect([refused.status, refused.body.code]).toEqual([409, 'ARTIFACT_IN_USE']);
      expect(await files()).toEqual([stored]);
      expect((await download(stored, device)).status).toBe(200);
      usage.used.delete(stored);
      const deleted = await h.api('DELETE', `/api/v1/artifacts/${stored}`);
      expect(deleted.status).toBe(200);
      expect(await files()).toEqual([]);
      expect((await h.api('GET', `/api/v1/artifacts/${stored}`)).status).toBe(404);
      expect((await download(stored, device)).status).toBe(404);
      const audit = await h.api('GET', '/api/v1/audit-log?action=artifact.delete');
      expect(JSON.stringify(audit.body)).toContain(stored);
    });
  },
);
