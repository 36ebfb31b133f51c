import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ArtifactManifest, errorCodeOf, sha256Hex } from '@crema/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactServer } from '../../test/helpers/artifact-server';
import { silentLogger } from '../log/logger';
import { systemClock } from '../time/clock';
import { ArtifactDownloader } from './download';

const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7 + 3) & 0xff);
const manifest: ArtifactManifest = {
  kind: 'agent',
  version: '2.0.0',
  models: ['crema-one'],
  size: bytes.length,
  sha256: sha256Hex(bytes),
  minVersion: '1.0.0',
  notes: '',
  createdAt: 0,
};

let dir: string;
let server: ArtifactServer;
const downloader = (credential = 'secret-credential-1234') =>
  new ArtifactDownloader({
    baseUrl: server.url,
    deviceId: 'dev-1',
    credential,
    dir,
    clock: systemClock,
    logger: silentLogger,
    retryDelayMs: 10,
    attempts: 3,
  });
const codeOf = (p: Promise<unknown>) => p.then(() => undefined, errorCodeOf);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crema-dl-'));
  server = new ArtifactServer();
  server.credentials.set('dev-1', 'secret-credential-1234');
  await server.start();
});
afterEach(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('artifact download (real HTTP server with Range and device credentials)', () => {
  it('resumes what a previous run staged with Range, then verifies', async () => {
    server.files.set(manifest.sha256, bytes);
    writeFileSync(join(dir, `${manifest.sha256}.part`), bytes.subarray(0, 4321));
    const d = downloader();
    await d.download(manifest, () => {});
    expect(server.requests.map((r) => [r.range, r.status])).toEqual([['bytes=4321-', 206]]);
    const file = await d.verify(manifest);
    expect(statSync(file).size).toBe(bytes.length);
  });

  it('sends the device credential; a wrong one fails at once without retrying', async () => {
    server.files.set(manifest.sha256, bytes);
    expect(await codeOf(downloader('wrong-credential-0000').download(manifest, () => {}))).toBe(
      'UPDATE_DOWNLOAD_FAILED',
    );
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.status).toBe(401);
  });

  it('refuses an artifact longer than promised, and deletes what was staged', async () => {
    const longer = new Uint8Array(bytes.length + 10);
    longer.set(bytes);
    server.files.set(manifest.sha256, longer);
    expect(await codeOf(downloader().download(manifest, () => {}))).toBe('UPDATE_SIZE_MISMATCH');
    expect(() => statSync(join(dir, `${manifest.sha256}.part`))).toThrow();
  });

  it('refuses bytes whose hash is wrong at verify, and deletes them', async () => {
    const flipped = bytes.slice();
    flipped[5] = (flipped[5] ?? 0) ^ 0xff;
    server.files.set(manifest.sha256, flipped);
    const d = downloader();
    await d.download(manifest, () => {});
    expect(await codeOf(d.verify(manifest))).toBe('UPDATE_HASH_MISMATCH');
    expect(() => statSync(join(dir, `${manifest.sha256}.part`))).toThrow();
  });

  it('gives up after its attempts when the link keeps dropping, keeping the staged bytes', async () => {
    server.files.set(manifest.sha256, bytes);
    server.writeBytes = 1000;
    const d = downloader();
    // Every answer is cut after 2 writes: three attempts stage at most 6 000 bytes, not all 10 000.
    server.cutEach = 2000;
    const code = await codeOf(d.download(manifest, () => {}));
    server.cutEach = undefined;
    expect(code).toBe('UPDATE_DOWNLOAD_FAILED');
    expect(server.requests).toHaveLength(3);
    const staged = statSync(join(dir, `${manifest.sha256}.part`)).size;
    expect(staged).toBeGreaterThan(0);
    expect(staged).toBeLessThanOrEqual(6000);
    await d.download(manifest, () => {});
    expect(server.requests.at(-1)?.range).toBe(`bytes=${staged}-`);
    expect(statSync(join(dir, `${manifest.sha256}.part`)).size).toBe(bytes.length);
  });
});
