import type { Transport } from '../brewer/types';

/**
 * An in-memory transport for unit tests of protocol logic. `reply` scripts the device: it sees each line the
 * agent writes and may answer through `emit`.
 */
export class FakeTransport implements Transport {
  readonly description = 'fake';
  readonly written: string[] = [];
  isOpen = false;
  openCount = 0;
  /** While positive, `open` fails and this counts down. */
  failOpens = 0;
  /** When set, `open` fails until it is cleared. */
  unplugged = false;
  reply: ((line: string) => void) | undefined;
  private readonly dataListeners: Array<(chunk: string) => void> = [];
  private readonly closeListeners: Array<(err?: Error) => void> = [];

  async open(): Promise<void> {
    if (this.unplugged) throw new Error('fake: no such device');
    if (this.failOpens > 0) {
      this.failOpens--;
      throw new Error('fake: open failed');
    }
    this.isOpen = true;
    this.openCount++;
  }

  async close(): Promise<void> {
    this.isOpen = false;
  }

  async write(data: string): Promise<void> {
    if (!this.isOpen) throw new Error('fake: not open');
    this.written.push(data);
    this.reply?.(data);
  }

  onData(listener: (chunk: string) => void): void {
    this.dataListeners.push(listener);
  }

  onClose(listener: (err?: Error) => void): void {
    this.closeListeners.push(listener);
  }

  /** Bytes from the device to the agent. */
  emit(data: string): void {
    if (!this.isOpen) return;
    for (const l of this.dataListeners) l(data);
  }

  /** The device vanishes: the link closes on its own. */
  drop(unplug = false): void {
    this.isOpen = false;
    this.unplugged = unplug;
    for (const l of this.closeListeners) l(new Error('fake: device gone'));
  }
}
