import { createServer, type Server, type Socket } from 'node:net';
import { type ByteStream, socketStream } from '../link/stream';
import type { Logger } from '../log';

/**
 * A device port on TCP, like a serial-to-network gateway: every connection is a line to the device.
 * The port chosen at the first start is kept, so `stop()` + `start()` drops and restores the link in place.
 */
export class TcpEndpoint {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private boundPort: number;

  constructor(
    private readonly host: string,
    port: number,
    private readonly onStream: (stream: ByteStream) => void,
    private readonly logger: Logger,
  ) {
    this.boundPort = port;
  }

  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    return `${this.host}:${this.boundPort}`;
  }

  start(): Promise<void> {
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', (e) => this.logger.debug({ err: e }, 'socket error'));
      this.onStream(socketStream(socket));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, this.host, () => {
        server.off('error', reject);
        const a = server.address();
        if (a && typeof a === 'object') this.boundPort = a.port;
        resolve();
      });
    });
  }

  /** Closes the listener and resets every connection. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
