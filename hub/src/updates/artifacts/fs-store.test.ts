import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRange } from '../../device-channel/artifact-download';
import { FsArtifactStore } from './fs-store';

async function* chunks(bytes: Uint8Array, size = 1000) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
async function readAll(s: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s ?? []) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('filesystem artifact store', () => {
  const dirs: string[] = [];
  const store = () => {
    const d = mkdtempSync(join(tmpdir(), 'crema-fs-store-'));
    dirs.push(d);
    return new FsArtifactStore(join(d, 'artifacts'));
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('stores under the sha256, reads whole and ranges, deletes', async () => {
    const s = store();
    await s.start();
    const bytes = randomBytes(5000);
    const put = await s.put(chunks(bytes), { maxBytes: 10_000 });
    expect(put).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex'), size: 5000 });
    expect(readdirSync(s.dir)).toEqual([put.sha256]);
    expect((await readAll(await s.read(put.sha256))).equals(bytes)).toBe(true);
    expect(
      (await readAll(await s.read(put.sha256, { start: 10, end: 19 }))).equals(bytes.subarray(10, 20)),
    ).toBe(true);
    await s.delete(put.sha256);
    expect(await s.exists(put.sha256)).toBe(false);
    expect(await s.read(put.sha256)).toBeUndefined();
  });

  it('keeps nothing of a refused upload and clears temp files a crash left', async () => {
    const s = store();
    await s.start();
    const bytes = randomBytes(5000);
    await expect(s.put(chunks(bytes), { maxBytes: 4999 })).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    await expect(
      s.put(chunks(bytes), { maxBytes: 10_000, expectedSha256: '0'.repeat(64) }),
    ).rejects.toMatchObject({
      code: 'ARTIFACT_HASH_MISMATCH',
    });
    await expect(s.put(chunks(new Uint8Array()), { maxBytes: 10 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(readdirSync(s.dir)).toEqual([]);
    writeFileSync(join(s.dir, '.tmp-crashed'), 'half');
    await s.start();
    expect(readdirSync(s.dir)).toEqual([]);
    // A name that is not a sha256 never becomes a path.
    expect(await s.read('../../etc/passwd')).toBeUndefined();
  });

  it('keeps a namespace apart: same bytes, two files, deleting one leaves the other', async () => {
    const s = store();
    await s.start();
    const ns = s.namespace('attachments');
    const bytes = randomBytes(100);
    const a = await s.put(chunks(bytes), { maxBytes: 1000 });
    const b = await ns.put(chunks(bytes), { maxBytes: 1000 });
    expect(b.sha256).toBe(a.sha256);
    await ns.delete(b.sha256);
    expect(await ns.exists(b.sha256)).toBe(false);
    expect(await s.exists(a.sha256)).toBe(true);
    writeFileSync(join(s.dir, 'attachments', '.tmp-crashed'), 'half');
    await s.start();
    expect(readdirSync(join(s.dir, 'attachments'))).toEqual([]);
    expect(() => s.namespace('../up')).toThrow();
  });
});

describe('Range header', () => {
  it('parses one range, clamps the end, and says when it cannot be satisfied', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=500-', 1000)).toEqual({ start: 500, end: 999 });
    expect(parseRange('bytes=900-5000', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-100', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-5000', 1000)).toEqual({ start: 0, end: 999 });
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 1000)).toBe('unsatisfiable');
    // Ignored (the whole file is sent): malformed, several ranges, reversed.
    expect(parseRange('bytes=0-1,5-6', 1000)).toBeUndefined();
    expect(parseRange('items=0-1', 1000)).toBeUndefined();
    expect(parseRange('bytes=9-1', 1000)).toBeUndefined();
  });
});
