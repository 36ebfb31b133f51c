import { SerialPort } from 'serialport';
import { type ByteStream, serialStream } from '../link/stream';
import type { Logger } from '../log';
import { PtyPair } from './pty';

/**
 * A device port on a pseudo-terminal: the simulator side is opened with the real `serialport` package, the
 * agent gets `path`. `down()` unplugs it (the pty disappears), `up()` plugs it back in under the same path.
 */
export class SerialEndpoint {
  private pty: PtyPair;
  private port: SerialPort | undefined;

  constructor(
    readonly path: string,
    private readonly baudRate: number,
    private readonly onStream: (stream: ByteStream) => void,
    private readonly logger: Logger,
  ) {
    this.pty = new PtyPair(`${path}.sim`, path, logger);
  }

  async start(): Promise<void> {
    await this.pty.start();
    const port = new SerialPort({ path: this.pty.devicePath, baudRate: this.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    port.on('error', (e) => this.logger.warn({ err: e, path: this.path }, 'serial error'));
    this.port = port;
    this.onStream(serialStream(port));
  }

  async stop(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    await this.pty.stop();
  }
}
