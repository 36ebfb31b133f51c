import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { HubMetrics } from './metrics';
import { problemOf, problemResponse } from './problem';

type HttpServer = ReturnType<typeof createAdaptorServer>;

/**
 * A listener that serves only `/metrics`, so a scraper can reach metrics on a private interface while the
 * public API port does not serve them.
 */
export class MetricsServer {
  private server: HttpServer | undefined;

  constructor(
    private readonly metrics: HubMetrics,
    private readonly host: string,
    private readonly port: number,
  ) {}

  /** Listens and resolves with the metrics URL. */
  async start(): Promise<string> {
    const metrics = this.metrics;
    const server = createAdaptorServer({
      fetch: (req: Request) => {
        const path = new URL(req.url).pathname;
        if (req.method === 'GET' && path === '/metrics')
          return metrics.scrape(req.headers.get('authorization') ?? undefined);
        return problemResponse(problemOf('NOT_FOUND', `no route for ${req.method} ${path}`, path));
      },
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${port}/metrics`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      if ('closeAllConnections' in server) server.closeAllConnections();
    });
  }
}
