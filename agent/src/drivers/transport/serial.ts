import { SerialPort } from 'serialport';
import type { Transport } from '../brewer/types';

/** A serial device, as bytes in and out. Holds no protocol logic. */
export class SerialTransport implements Transport {
  readonly description: string;
  private port: SerialPort | undefined;
  private readonly dataListeners: Array<(chunk: string) => void> = [];
  private readonly closeListeners: Array<(err?: Error) => void> = [];

  constructor(
    private readonly path: string,
    private readonly baudRate = 115_200,
  ) {
    this.description = `serial ${path}@${baudRate}`;
  }

  open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    return new Promise((resolve, reject) => {
      port.open((err) => {
        if (err) return reject(err);
        this.port = port;
        port.on('data', (buf: Buffer) => {
          const text = buf.toString('latin1');
          for (const l of this.dataListeners) l(text);
        });
        port.on('error', () => {
          // the 'close' event that follows a fatal error is what we report
        });
        port.on('close', (closeErr?: Error) => {
          if (this.port !== port) return;
          this.port = undefined;
          for (const l of this.closeListeners) l(closeErr ?? new Error(`${this.description} closed`));
        });
        resolve();
      });
    });
  }

  close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (!port?.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.close(() => resolve()));
  }

  write(data: string): Promise<void> {
    const port = this.port;
    if (!port) return Promise.reject(new Error(`${this.description} is not open`));
    return new Promise((resolve, reject) => {
      port.write(Buffer.from(data, 'latin1'), (err) => (err ? reject(err) : resolve()));
    });
  }

  onData(listener: (chunk: string) => void): void {
    this.dataListeners.push(listener);
  }

  onClose(listener: (err?: Error) => void): void {
    this.closeListeners.push(listener);
  }
}
