import { createHash } from 'node:crypto';
import { type BootloaderSlot, crc16Bytes, type SlotState } from '@crema/protocol';
import { ok, refuse, type StepResult } from '../model/steps';
import { type BrewerImage, parseImage } from './image';

/** Flash size of one slot. */
export const SLOT_BYTES = 1024 * 1024;

type Slot = { bytes: Uint8Array; len: number; state: SlotState; image: BrewerImage | undefined };

const other = (s: BootloaderSlot): BootloaderSlot => (s === 'a' ? 'b' : 'a');

/**
 * The bootloader's state: two slots, the slot that runs, the last confirmed one (the fallback) and the trial.
 * Pure state and rules; timing (reboot, crash watchdog) lives in BootRunner.
 */
export class Bootloader {
  mode: 'app' | 'boot' = 'app';
  running: BootloaderSlot = 'a';
  private confirmed: BootloaderSlot = 'a';
  private pending: BootloaderSlot | undefined;
  private boots = 0;
  private fellBack = false;
  private readonly slots: Record<BootloaderSlot, Slot>;

  constructor(
    private readonly model: string,
    factory: Uint8Array,
    readonly maxBoots: number,
  ) {
    const image = parseImage(factory);
    if (!image) throw new RangeError('the factory image is not a readable image');
    const empty: Slot = { bytes: new Uint8Array(0), len: 0, state: 'empty', image: undefined };
    this.slots = { a: { bytes: factory, len: factory.length, state: 'confirmed', image }, b: empty };
  }

  /** The image that runs now. */
  get image(): BrewerImage {
    return this.slots[this.running].image as BrewerImage;
  }

  enter(busy: boolean): StepResult {
    if (busy) return refuse('BUSY', undefined, 'stop the running step first');
    this.mode = 'boot';
    return ok({ active: this.running });
  }

  flash(slot: BootloaderSlot, off: number, hex: string, crc: string): StepResult {
    if (this.mode !== 'boot') return refuse('WRONG_MODE');
    if (slot === this.running || slot === this.confirmed) return refuse('SLOT_ACTIVE');
    const data = Uint8Array.from(Buffer.from(hex, 'hex'));
    if (crc16Bytes(data) !== Number.parseInt(crc, 16)) return refuse('BAD_CRC');
    const s = this.slots[slot];
    if (off > s.len || off + data.length > SLOT_BYTES)
      return refuse('BAD_OFFSET', undefined, `slot ${slot} holds ${s.len} bytes`);
    const bytes = new Uint8Array(off + data.length);
    bytes.set(s.bytes.subarray(0, off));
    bytes.set(data, off);
    if (this.pending === slot) this.pending = undefined;
    this.slots[slot] = { bytes, len: bytes.length, state: 'writing', image: undefined };
    return ok({ len: bytes.length });
  }

  verify(slot: BootloaderSlot, size: number, sha256: string): StepResult {
    if (this.mode !== 'boot') return refuse('WRONG_MODE');
    if (slot === this.running || slot === this.confirmed) return refuse('SLOT_ACTIVE');
    const s = this.slots[slot];
    const bad = (msg: string) => {
      s.state = 'bad';
      return refuse('BAD_IMAGE', undefined, msg);
    };
    if (s.len !== size) return bad(`slot holds ${s.len} bytes, not ${size}`);
    if (createHash('sha256').update(s.bytes).digest('hex') !== sha256) return bad('sha256 mismatch');
    const image = parseImage(s.bytes);
    if (!image) return bad('no readable image header');
    if (image.model !== this.model) return bad(`image is for model ${image.model}`);
    s.state = 'verified';
    s.image = image;
    return ok({ fw: image.version });
  }

  activate(slot: BootloaderSlot): StepResult {
    if (this.mode !== 'boot') return refuse('WRONG_MODE');
    if (slot === this.confirmed) {
      // Back to the known-good slot: the trial is abandoned (an explicit rollback).
      this.pending = undefined;
      this.boots = 0;
      return ok({ pending: '' });
    }
    if (this.slots[slot].state !== 'verified') return refuse('BAD_IMAGE', undefined, 'slot is not verified');
    this.pending = slot;
    this.boots = 0;
    return ok({ pending: slot });
  }

  confirm(): StepResult {
    if (this.mode !== 'app') return refuse('WRONG_MODE');
    if (this.pending === this.running) {
      this.confirmed = this.running;
      this.pending = undefined;
      this.boots = 0;
      this.slots[this.running].state = 'confirmed';
      const previous = this.slots[other(this.running)];
      if (previous.state === 'confirmed') previous.state = 'verified';
    }
    return ok({ slot: this.confirmed });
  }

  /** Chooses the slot this boot runs: the trial while it has boots left, else the confirmed one. */
  nextBoot(): BrewerImage {
    this.mode = 'app';
    this.fellBack = false;
    if (this.pending && this.boots >= this.maxBoots) {
      this.slots[this.pending].state = 'bad';
      this.pending = undefined;
      this.boots = 0;
      this.fellBack = true;
    }
    if (this.pending) {
      this.boots++;
      this.running = this.pending;
    } else this.running = this.confirmed;
    return this.image;
  }

  table(): Record<string, string | number> {
    const row = (s: BootloaderSlot) => {
      const slot = this.slots[s];
      return {
        [`${s}_state`]: slot.state,
        [`${s}_fw`]: slot.image?.version ?? '',
        [`${s}_len`]: slot.len,
      };
    };
    return {
      mode: this.mode,
      active: this.running,
      pending: this.pending ?? '',
      boots: this.boots,
      max_boots: this.maxBoots,
      fell_back: this.fellBack ? 1 : 0,
      ...row('a'),
      ...row(other('a')),
    };
  }
}
