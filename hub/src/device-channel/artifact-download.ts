import { Readable } from 'node:stream';
import { Sha256Schema } from '@crema/protocol';
import type { Context } from 'hono';
import { problemOf, problemResponse } from '../api/problem';
import type { ArtifactUsage } from '../updates/artifact-usage';
import type { ArtifactStore, ByteRange } from '../updates/artifacts/store';
import type { DeviceEnv } from './device-auth';

/**
 * `GET /api/v1/device/artifacts/{sha256}`: the bytes of an artifact offered to the calling device, whole
 * (200) or from a `Range: bytes=N-` / `bytes=N-M` / `bytes=-N` (206 with Content-Range), so an interrupted
 * download resumes. A range past the end → 416 RANGE_NOT_SATISFIABLE with `Content-Range: bytes *\/size`.
 * Not offered to this device, or not stored → 404 (the same answer, so nothing leaks).
 */
export function artifactDownload(store: ArtifactStore, usage: ArtifactUsage) {
  return async function downloadArtifact(c: Context<DeviceEnv>): Promise<Response> {
    const sha256 = c.req.param('sha256') ?? '';
    const path = c.req.path;
    const notFound = () => problemResponse(problemOf('NOT_FOUND', 'no such artifact for this device', path));
    if (!Sha256Schema.safeParse(sha256).success) return notFound();
    if (!(await usage.offeredTo(c.get('device').deviceId, sha256))) return notFound();
    const stat = await store.stat(sha256);
    if (!stat) return notFound();
    const etag = `"${sha256}"`;
    const headers = new Headers({
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      etag,
      'cache-control': 'private, max-age=31536000, immutable',
    });
    const ifRange = c.req.header('if-range');
    const header = ifRange === undefined || ifRange === etag ? c.req.header('range') : undefined;
    const range = header === undefined ? undefined : parseRange(header, stat.size);
    if (range === 'unsatisfiable') {
      return problemResponse(problemOf('RANGE_NOT_SATISFIABLE', `the file has ${stat.size} bytes`, path), {
        'content-range': `bytes */${stat.size}`,
      });
    }
    const stream = await store.read(sha256, range);
    if (!stream) return notFound();
    const body = Readable.toWeb(stream) as ReadableStream<Uint8Array>;
    if (!range) {
      headers.set('content-length', String(stat.size));
      return new Response(body, { status: 200, headers });
    }
    headers.set('content-length', String(range.end - range.start + 1));
    headers.set('content-range', `bytes ${range.start}-${range.end}/${stat.size}`);
    return new Response(body, { status: 206, headers });
  };
}

/**
 * One byte range of RFC 9110 §14.1.2. Several ranges or a malformed header are ignored (the whole file is
 * sent, as the RFC allows); a range that starts past the end is unsatisfiable.
 */
export function parseRange(header: string, size: number): ByteRange | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, from = '', to = ''] = m;
  if (from === '' && to === '') return undefined;
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(from);
  const end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  if (to !== '' && Number(to) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}
