import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Ack,
  type Command,
  DEVICE_HTTP_PATHS,
  decodeEnvelope,
  type Envelope,
  splitBatch,
} from '@crema/protocol';
import type { HubDouble } from './hub-double';

/** The hub's device HTTP endpoints (docs/protocol.md §8) over a real socket, storing into a HubDouble. */
export class HttpHubDouble {
  readonly commands = new Map<string, Command[]>();
  readonly messages: Envelope[] = [];
  requests = 0;
  private server: Server | undefined;
  url = '';

  constructor(private readonly hub: HubDouble) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.requests += 1;
      void this.handle(req).then(({ status, body }) => {
        res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
        res.end(body === undefined ? undefined : JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body?: unknown }> {
    const deviceId = this.authenticate(req.headers.authorization);
    if (!deviceId) return problem(401, 'AUTH_REQUIRED');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'GET' && path === DEVICE_HTTP_PATHS.commands) {
      return { status: 200, body: { commands: this.commands.get(deviceId) ?? [] } };
    }
    const decoded = decodeEnvelope(Buffer.concat(chunks));
    if (!decoded.ok) return problem(400, decoded.error.code);
    if (req.method === 'POST' && path === DEVICE_HTTP_PATHS.records && decoded.value.type === 'batch') {
      const { good, bad } = splitBatch(decoded.value.body.records);
      this.hub.storeNow(good);
      const ack: Ack = {
        ids: good.map((r) => r.id),
        rejected: bad.flatMap((b) => (b.id ? [{ id: b.id, code: b.error.code }] : [])),
      };
      return { status: 200, body: ack };
    }
    if (req.method === 'POST' && path === DEVICE_HTTP_PATHS.messages) {
      this.messages.push(decoded.value);
      return { status: 202 };
    }
    return problem(404, 'NOT_FOUND');
  }

  private authenticate(header: string | undefined): string | undefined {
    if (!header?.startsWith('Basic ')) return undefined;
    const [user, pass] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    return user && this.hub.credentials.get(user) === pass ? user : undefined;
  }
}

function problem(status: number, code: string) {
  return { status, body: { type: `urn:crema:error:${code}`, title: code, status, code } };
}
