import { createConnection, type Socket } from 'node:net';
import type { Transport } from '../brewer/types';

/** A serial-to-network gateway: the device's byte stream over a TCP socket. Holds no protocol logic. */
export class TcpTransport implements Transport {
  readonly description: string;
  private socket: Socket | undefined;
  private readonly dataListeners: Array<(chunk: string) => void> = [];
  private readonly closeListeners: Array<(err?: Error) => void> = [];

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly connectTimeoutMs = 5000,
  ) {
    this.description = `tcp ${host}:${port}`;
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: this.host, port: this.port });
      socket.setTimeout(this.connectTimeoutMs);
      const fail = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once('timeout', () => fail(new Error(`${this.description}: connect timed out`)));
      socket.once('connect', () => {
        socket.off('error', fail);
        socket.setTimeout(0);
        socket.removeAllListeners('timeout');
        socket.setNoDelay(true);
        this.socket = socket;
        let lastError: Error | undefined;
        socket.on('data', (buf: Buffer) => {
          const text = buf.toString('latin1');
          for (const l of this.dataListeners) l(text);
        });
        socket.on('error', (err) => {
          lastError = err;
        });
        socket.on('close', () => {
          if (this.socket !== socket) return;
          this.socket = undefined;
          for (const l of this.closeListeners)
            l(lastError ?? new Error(`${this.description} closed by peer`));
        });
        resolve();
      });
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  write(data: string): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new Error(`${this.description} is not open`));
    return new Promise((resolve, reject) => {
      socket.write(Buffer.from(data, 'latin1'), (err) => (err ? reject(err) : resolve()));
    });
  }

  onData(listener: (chunk: string) => void): void {
    this.dataListeners.push(listener);
  }

  onClose(listener: (err?: Error) => void): void {
    this.closeListeners.push(listener);
  }
}
