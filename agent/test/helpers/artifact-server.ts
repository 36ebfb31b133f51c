import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEVICE_HTTP_PATHS } from '@crema/protocol';

export type ArtifactRequest = { sha256: string; range: string | undefined; status: number };

/**
 * The hub's artifact download route as docs/protocol.md §8/§15 describe it, over a real socket: HTTP Basic with
 * the device credential, `Range: bytes=N-` answered 206 (416 past the end), `ETag` = the sha256, problem
 * documents on refusal. `cutAfter` drops the connection once after that many body bytes (a dead link).
 */
export class ArtifactServer {
  readonly files = new Map<string, Uint8Array>();
  readonly credentials = new Map<string, string>();
  readonly requests: ArtifactRequest[] = [];
  /** The next response is cut after this many body bytes (then reset to undefined). */
  cutAfter: number | undefined;
  /** Every response is cut after this many body bytes (a link that keeps dropping). */
  cutEach: number | undefined;
  /** Bytes sent per write; small writes make a cut land mid-download. */
  writeBytes = 1024;
  /** Pause between writes (a slow link), so that a download takes measurable time. */
  writeDelayMs = 0;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const prefix = `${DEVICE_HTTP_PATHS.artifacts}/`;
      const sha256 = path.startsWith(prefix) ? path.slice(prefix.length) : '';
      const range = req.headers.range;
      const answer = (status: number, code?: string) => {
        this.requests.push({ sha256, range, status });
        if (code) {
          res.writeHead(status, { 'content-type': 'application/problem+json' });
          res.end(JSON.stringify({ type: `urn:crema:error:${code}`, title: code, status, code }));
        }
      };
      if (!this.authorized(req.headers.authorization)) return answer(401, 'AUTH_REQUIRED');
      const bytes = this.files.get(sha256);
      if (req.method !== 'GET' || !bytes) return answer(404, 'NOT_FOUND');
      let from = 0;
      if (range !== undefined) {
        const m = /^bytes=(\d+)-$/.exec(range);
        if (!m) return answer(416, 'VALIDATION_FAILED');
        from = Number(m[1]);
        if (from >= bytes.length) return answer(416, 'VALIDATION_FAILED');
      }
      const body = bytes.subarray(from);
      const headers: Record<string, string | number> = {
        'content-type': 'application/octet-stream',
        'content-length': body.length,
        etag: `"${sha256}"`,
        'accept-ranges': 'bytes',
      };
      if (range !== undefined) headers['content-range'] = `bytes ${from}-${bytes.length - 1}/${bytes.length}`;
      answer(range !== undefined ? 206 : 200);
      res.writeHead(range !== undefined ? 206 : 200, headers);
      const cut = this.cutAfter ?? this.cutEach;
      this.cutAfter = undefined;
      void this.send(res, body, cut);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async send(
    res: import('node:http').ServerResponse,
    body: Uint8Array,
    cut: number | undefined,
  ): Promise<void> {
    for (let off = 0; off < body.length; off += this.writeBytes) {
      if (cut !== undefined && off >= cut) {
        // A dead link after the bytes sent so far reached the client: bytes still queued in Node are dropped by
        // destroy(), and a fetch body stream that errors in the tick its last bytes arrive discards them, so the
        // client would have nothing to resume from. Cut once they are out and the client has had time to read.
        for (let waited = 0; (res.socket?.writableLength ?? 0) > 0 && waited < 2000; waited += 5) {
          await new Promise((r) => setTimeout(r, 5));
        }
        await new Promise((r) => setTimeout(r, 300));
        res.socket?.destroy();
        return;
      }
      const more = res.write(body.subarray(off, Math.min(off + this.writeBytes, body.length)));
      if (!more) await new Promise((r) => res.once('drain', r));
      await new Promise((r) => (this.writeDelayMs > 0 ? setTimeout(r, this.writeDelayMs) : setImmediate(r)));
    }
    res.end();
  }

  private authorized(header: string | undefined): boolean {
    if (!header?.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return i > 0 && this.credentials.get(decoded.slice(0, i)) === decoded.slice(i + 1);
  }
}
