import {
  type BootloaderSlot,
  type BootloaderSlots,
  BootloaderSlotsSchema,
  errorCodeOf,
  FLASH_CHUNK_BYTES,
  flashChunks,
} from '@crema/protocol';
import { AgentError } from '../../errors';
import { type Clock, sleep } from '../../time/clock';
import type { BrewerRejection } from './serial-brewer';
import type { Brewer } from './types';

export const otherSlot = (s: BootloaderSlot): BootloaderSlot => (s === 'a' ? 'b' : 'a');

/** The brewer's ERR code, when a request was refused (BREWER_REJECTED). */
export function brewerCode(err: unknown): string | undefined {
  if (errorCodeOf(err) !== 'BREWER_REJECTED') return undefined;
  return ((err as AgentError).details as BrewerRejection | undefined)?.code;
}

/** The link dropped or the controller went silent: worth waiting for and resuming. */
export function isLinkError(err: unknown): boolean {
  const code = errorCodeOf(err);
  return code === 'BREWER_DISCONNECTED' || code === 'BREWER_TIMEOUT';
}

/**
 * The bootloader dialect of the brewer line (docs/protocol.md §15) over the brewer driver: enter, write a slot
 * chunk by chunk with CRC (resending a chunk refused for its CRC), verify, activate, reboot, confirm.
 */
export class BootloaderClient {
  constructor(
    private readonly brewer: Brewer,
    private readonly clock: Clock,
    private readonly timeoutMs = 2_000,
  ) {}

  async slots(): Promise<BootloaderSlots> {
    const values = await this.brewer.request('SLOTS', {}, { timeoutMs: this.timeoutMs });
    const parsed = BootloaderSlotsSchema.safeParse(values);
    if (!parsed.success) throw new AgentError('VALIDATION_FAILED', 'the brewer SLOTS reply is malformed');
    return parsed.data;
  }

  async info(timeoutMs = this.timeoutMs): Promise<Record<string, string>> {
    return this.brewer.request('INFO', {}, { timeoutMs });
  }

  /** Bootloader mode; a running step (a rinse, a heat-up) is stopped first. */
  async enter(): Promise<void> {
    try {
      await this.brewer.request('BOOTLOADER', {}, { timeoutMs: this.timeoutMs });
    } catch (err) {
      if (brewerCode(err) !== 'BUSY') throw err;
      await this.brewer.request('STOP', {}, { timeoutMs: this.timeoutMs });
      await this.brewer.request('BOOTLOADER', {}, { timeoutMs: this.timeoutMs });
    }
  }

  /**
   * Writes `image` into `slot` from byte `from` (a chunk boundary at or below what the slot holds). Calls
   * `onChunk` after each chunk with the bytes written. A link error is thrown: the caller resumes from SLOTS.
   */
  async flash(
    slot: BootloaderSlot,
    image: Uint8Array,
    from: number,
    onChunk: (written: number) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const start = Math.floor(from / FLASH_CHUNK_BYTES) * FLASH_CHUNK_BYTES;
    for (const chunk of flashChunks(image, start)) {
      if (signal?.aborted) throw signal.reason;
      for (let attempt = 1; ; attempt++) {
        try {
          await this.brewer.request(
            'FLASH',
            { slot, off: chunk.off, data: chunk.data, crc: chunk.crc },
            { timeoutMs: this.timeoutMs },
          );
          break;
        } catch (err) {
          // A chunk garbled on the way is refused and not written: send it again.
          if (brewerCode(err) !== 'BAD_CRC' || attempt >= 5) throw err;
        }
      }
      onChunk(chunk.end);
    }
  }

  async verify(slot: BootloaderSlot, size: number, sha256: string): Promise<void> {
    await this.brewer.request('VERIFY', { slot, size, sha256 }, { timeoutMs: this.timeoutMs * 5 });
  }

  async activate(slot: BootloaderSlot): Promise<void> {
    await this.brewer.request('ACTIVATE', { slot }, { timeoutMs: this.timeoutMs });
  }

  /** REBOOT; its reply may be lost with the reset, which is not an error. */
  async reboot(): Promise<void> {
    await this.brewer.request('REBOOT', {}, { timeoutMs: this.timeoutMs }).catch((err: unknown) => {
      if (!isLinkError(err)) throw err;
    });
  }

  async confirm(): Promise<void> {
    await this.brewer.request('CONFIRM', {}, { timeoutMs: this.timeoutMs });
  }

  /**
   * Waits until the controller answers again (after a reboot, a crash, a dropped link) and returns its slot
   * table; throws UPDATE_LINK_LOST after `deadlineMs`.
   */
  async awaitController(deadlineMs: number, signal?: AbortSignal): Promise<BootloaderSlots> {
    const until = this.clock.now() + deadlineMs;
    let last: unknown;
    while (this.clock.now() < until) {
      if (signal?.aborted) throw signal.reason;
      if (this.brewer.connected) {
        try {
          return await this.slots();
        } catch (err) {
          if (!isLinkError(err)) throw err;
          last = err;
        }
      }
      await sleep(this.clock, 200, signal);
    }
    throw new AgentError(
      'UPDATE_LINK_LOST',
      `the brewer did not answer within ${deadlineMs} ms (${(last as Error)?.message ?? 'link down'})`,
    );
  }
}
