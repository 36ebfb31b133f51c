import type { ByteStream } from '../link/stream';
import type { Logger } from '../log';
import type { Clock, ClockTimer } from '../time/clock';
import { crc16Modbus } from './crc';
import { handlePdu, requestFrameLength } from './pdu';
import type { RegisterBank } from './register-bank';

/** Silence after which a partial frame is discarded (RTU's 3.5 character gap, generous for a pty). */
const GAP_MS = 20;

/**
 * Modbus RTU on a serial stream. Frames are delimited by their function code's length (and by silence for
 * unknown codes); a frame with a bad CRC or for another unit gets no answer, as on a real RS-485 bus.
 * modbus-serial's ServerSerial is not used: it overwrites the request CRC before checking it, so corrupt
 * frames would be executed.
 */
export class ModbusRtuServer {
  private buf = Buffer.alloc(0);
  private gapTimer: ClockTimer | undefined;

  constructor(
    private readonly bank: RegisterBank,
    private readonly stream: ByteStream,
    /** Real time: the gap belongs to the wire, not to the simulated machine. */
    private readonly wireClock: Clock,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stream.onData((chunk) => this.receive(chunk));
    this.stream.onClose(() => this.clearGap());
  }

  private receive(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    this.clearGap();
    for (;;) {
      const len = requestFrameLength(this.buf);
      if (len === undefined || this.buf.length < len) break;
      const frame = this.buf.subarray(0, len);
      this.buf = this.buf.subarray(len);
      if (!this.process(frame)) {
        // Lost sync: drop everything until the line goes quiet.
        this.buf = Buffer.alloc(0);
        break;
      }
    }
    if (this.buf.length > 0) this.gapTimer = this.wireClock.setTimeout(() => this.onGap(), GAP_MS);
  }

  /** After silence, what is left is either a frame with an unknown function code or noise. */
  private onGap(): void {
    this.gapTimer = undefined;
    const frame = this.buf;
    this.buf = Buffer.alloc(0);
    if (frame.length >= 4) this.process(frame);
  }

  /** Executes a frame; false if its CRC is wrong. */
  private process(frame: Buffer): boolean {
    const body = frame.subarray(0, frame.length - 2);
    if (crc16Modbus(body) !== frame.readUInt16LE(frame.length - 2)) {
      this.logger.debug({ frame: frame.toString('hex') }, 'rtu frame with bad crc dropped');
      return false;
    }
    const unit = body[0] ?? 0;
    const broadcast = unit === 0;
    const targets = broadcast ? this.bank.unitIds : [unit];
    let response: Buffer | undefined;
    for (const u of targets) response = handlePdu(this.bank, u, body.subarray(1));
    if (broadcast || !response) return true;
    const out = Buffer.alloc(response.length + 3);
    out[0] = unit;
    response.copy(out, 1);
    out.writeUInt16LE(crc16Modbus(out.subarray(0, out.length - 2)), out.length - 2);
    this.stream.write(out);
    return true;
  }

  private clearGap(): void {
    if (this.gapTimer) this.wireClock.clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }
}
