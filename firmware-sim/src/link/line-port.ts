import {
  clipValue,
  type Dialect,
  decodeFrame,
  encodeFrame,
  type Frame,
  LineSplitter,
  type ProtocolError,
  type Random,
} from '@crema/protocol';
import type { Logger } from '../log';
import type { FaultRegistry } from '../model/faults';
import { type Clock, sleep } from '../time/clock';
import type { ByteStream } from './stream';

export type LineName = 'brewer' | 'payment';

export type LinePortOptions = {
  name: LineName;
  stream: ByteStream;
  dialect: Dialect;
  faults: FaultRegistry;
  clock: Clock;
  random: Random;
  logger: Logger;
};

const REQUEST_ID_RE = /^>([0-9A-F]{4}) [A-Z][A-Z_]{0,15}[ *]/;

/**
 * One line-protocol connection: splits and decodes incoming frames, encodes outgoing ones, and applies the
 * serial faults (corrupt checksums, garbage, slow replies) to what it sends.
 */
export class LinePort {
  private readonly splitter = new LineSplitter();
  private eventId = 0;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly o: LinePortOptions) {}

  get description(): string {
    return this.o.stream.description;
  }

  /**
   * Starts reading. Valid requests go to `onRequest`; a request that fails validation but whose id can be read
   * goes to `onBadRequest` so it can be answered; lines with bad checksums or framing are dropped, as a real
   * device would, and the sender's timeout handles them.
   */
  start(handlers: {
    onRequest: (frame: Frame) => void;
    onBadRequest: (id: number, error: ProtocolError) => void;
    onClose: () => void;
  }): void {
    const { stream, logger } = this.o;
    stream.onData((chunk) => {
      for (const item of this.splitter.push(chunk.toString('latin1'))) {
        if ('error' in item) {
          logger.debug({ error: item.error }, 'line dropped');
          continue;
        }
        const line = item.line.replace(/\r$/, '');
        if (line.length === 0) continue;
        const frame = decodeFrame(line, this.o.dialect);
        if (frame.ok && frame.value.kind === 'request') handlers.onRequest(frame.value);
        else if (frame.ok) logger.debug({ line }, 'non-request frame ignored');
        else {
          const m = REQUEST_ID_RE.exec(line);
          const code = frame.error.code;
          if (m && (code === 'VALIDATION_FAILED' || code === 'LINE_UNKNOWN_VERB')) {
            handlers.onBadRequest(Number.parseInt(m[1] ?? '0', 16), frame.error);
          } else logger.debug({ code, line: line.slice(0, 80) }, 'line dropped');
        }
      }
    });
    stream.onClose(() => {
      this.closed = true;
      handlers.onClose();
    });
  }

  reply(id: number, verb: 'OK' | 'ERR', args: Record<string, string | number>): void {
    const line = encodeFrame({ kind: 'reply', id, verb, args: stringify(args) });
    const slow = this.fault('serial_slow');
    const delay = slow ? Number(slow.ms ?? 0) : 0;
    this.enqueue(async () => {
      if (delay > 0) await sleep(this.o.clock, delay);
      this.send(line);
    });
  }

  event(verb: string, args: Record<string, string | number> = {}): void {
    this.eventId = (this.eventId + 1) & 0xffff;
    const line = encodeFrame({ kind: 'event', id: this.eventId, verb, args: stringify(args) });
    this.enqueue(async () => this.send(line));
  }

  close(): void {
    this.closed = true;
    this.o.stream.close();
  }

  private enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(job).catch((e) => this.o.logger.warn({ err: e }, 'write failed'));
  }

  private send(line: string): void {
    if (this.closed) return;
    let out = line;
    if (this.fault('serial_garbage')) out = `${this.garbage()}\n${out}`;
    if (this.fault('serial_corrupt')) out = corruptChecksum(out);
    this.o.stream.write(Buffer.from(out, 'latin1'));
  }

  private fault(
    name: 'serial_slow' | 'serial_garbage' | 'serial_corrupt',
  ): Record<string, unknown> | undefined {
    const p = this.o.faults.params(name) as Record<string, unknown> | undefined;
    if (!p) return undefined;
    return p.link === 'all' || p.link === this.o.name ? p : undefined;
  }

  /** Bytes a noisy line might carry: anything but a newline. */
  private garbage(): string {
    const n = 3 + Math.floor(this.o.random.next() * 20);
    let s = '';
    for (let i = 0; i < n; i++) {
      const b = Math.floor(this.o.random.next() * 255) + 1;
      s += String.fromCharCode(b === 10 ? 11 : b);
    }
    return s;
  }
}

/** Free text (`msg`) is cut to fit one value once percent-encoded; the frame encoder does the encoding. */
function stringify(args: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(args).map(([k, v]) => [k, k === 'msg' ? clipValue(String(v)) : String(v)]),
  );
}

/** Replaces the checksum of every line with a different, still well-formed one. */
export function corruptChecksum(text: string): string {
  return text.replace(/\*([0-9A-F]{4})\n/g, (_m, crc: string) => {
    const wrong = (Number.parseInt(crc, 16) ^ 0x5a5a).toString(16).toUpperCase().padStart(4, '0');
    return `*${wrong}\n`;
  });
}
