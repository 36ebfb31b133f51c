import { createConnection, type Socket } from 'node:net';
import { type Dialect, decodeFrame, encodeFrame, type Frame, LineSplitter } from '@crema/protocol';
import { SerialPort } from 'serialport';

type Line = { raw: string; frame?: Frame; error?: string };

/**
 * A test client for the line protocols over TCP or a pty (the real `serialport` package). It records every
 * line received, decoded or not, and pairs replies with requests by id.
 */
export class LineClient {
  readonly lines: Line[] = [];
  private readonly splitter = new LineSplitter();
  private nextId = 1;
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly dialect: Dialect,
    private readonly writeRaw: (s: string) => void,
    readonly close: () => Promise<void>,
  ) {}

  static async tcp(address: string, dialect: Dialect): Promise<LineClient> {
    const [host, port] = address.split(':');
    const socket: Socket = await new Promise((resolve, reject) => {
      const s = createConnection({ host, port: Number(port) }, () => resolve(s));
      s.once('error', reject);
    });
    const client = new LineClient(
      dialect,
      (s) => socket.write(s, 'latin1'),
      () =>
        new Promise((resolve) => {
          if (socket.closed) return resolve();
          socket.once('close', () => resolve());
          socket.destroy();
        }),
    );
    socket.on('data', (d) => client.feed(d));
    socket.on('error', () => {});
    return client;
  }

  static async serial(path: string, dialect: Dialect): Promise<LineClient> {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    const client = new LineClient(
      dialect,
      (s) => port.write(Buffer.from(s, 'latin1')),
      () => new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
    );
    port.on('data', (d: Buffer) => client.feed(d));
    port.on('error', () => {});
    return client;
  }

  private feed(chunk: Buffer): void {
    for (const item of this.splitter.push(chunk.toString('latin1'))) {
      if ('error' in item) this.lines.push({ raw: '', error: item.error });
      else {
        const d = decodeFrame(item.line, this.dialect);
        this.lines.push(d.ok ? { raw: item.line, frame: d.value } : { raw: item.line, error: d.error.code });
      }
    }
    for (const w of this.waiters.splice(0)) w();
  }

  send(verb: string, args: Record<string, string | number> = {}): number {
    const id = this.nextId++;
    const a = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, String(v)]));
    this.writeRaw(encodeFrame({ kind: 'request', id, verb, args: a }));
    return id;
  }

  writeLine(text: string): void {
    this.writeRaw(text);
  }

  /** Sends a request and waits for the reply with its id. */
  async request(verb: string, args: Record<string, string | number> = {}, timeoutMs = 8000): Promise<Frame> {
    const id = this.send(verb, args);
    return this.waitFor((l) => l.frame?.kind === 'reply' && l.frame.id === id, timeoutMs).then(
      (l) => l.frame!,
    );
  }

  event(verb: string, match: (args: Record<string, unknown>) => boolean = () => true, timeoutMs = 8000) {
    return this.waitFor(
      (l) => l.frame?.kind === 'event' && l.frame.verb === verb && match(l.frame.args),
      timeoutMs,
    ).then((l) => l.frame!);
  }

  /** Resolves with the first line (already received or future) that matches. */
  async waitFor(match: (l: Line) => boolean, timeoutMs = 8000): Promise<Line> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      for (; seen < this.lines.length; seen++) {
        const l = this.lines[seen]!;
        if (match(l)) return l;
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no matching line within ${timeoutMs} ms; got ${JSON.stringify(this.lines.map((l) => l.raw))}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
