import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import type { Simulator } from '../simulator';
import { createControlApp } from './app';

/** The control endpoint on loopback HTTP. */
export class ControlServer {
  private server: ServerType | undefined;
  private boundPort: number;

  constructor(
    private readonly host: string,
    port: number,
  ) {
    this.boundPort = port;
  }

  get url(): string {
    return `http://${this.host}:${this.boundPort}`;
  }

  start(sim: Simulator): Promise<void> {
    const app = createControlApp(sim);
    return new Promise((resolve, reject) => {
      const server = serve(
        { fetch: app.fetch, hostname: this.host, port: this.boundPort },
        (info: AddressInfo) => {
          this.boundPort = info.port;
          resolve();
        },
      );
      server.once('error', reject);
      this.server = server;
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    if ('closeAllConnections' in server) server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
