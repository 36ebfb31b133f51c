import { z } from 'zod';
import { crc16Bytes } from './crc16';

/**
 * The bootloader dialect of the brewer line: same framing, same port, extra verbs. The brewer keeps two image
 * slots; one is active. An image is written to the other slot chunk by chunk, verified whole, activated for a
 * trial boot and confirmed once it proved healthy; a trial slot not confirmed within `max_boots` boots is
 * abandoned and the previous slot boots again.
 */
export const BootloaderSlotSchema = z.enum(['a', 'b']);
export type BootloaderSlot = z.infer<typeof BootloaderSlotSchema>;

/** Largest chunk one FLASH line carries: 48 bytes are 96 hex digits, the most one value may hold. */
export const FLASH_CHUNK_BYTES = 48;

const num = z.coerce.number().finite();
const flag = z.enum(['0', '1']).transform((v) => v === '1');
const none = z.object({}).strict();

export const BootloaderRequestArgs = {
  BOOTLOADER: none,
  FLASH: z
    .object({
      slot: BootloaderSlotSchema,
      off: z.coerce.number().int().min(0),
      /** 1 to 48 bytes, two hex digits a byte. */
      data: z.string().regex(/^(?:[0-9A-Fa-f]{2}){1,48}$/),
      /** CRC-16/CCITT-FALSE of the chunk's bytes (not of its hex), 4 hex digits. */
      crc: z.string().regex(/^[0-9A-Fa-f]{4}$/),
    })
    .strict(),
  VERIFY: z
    .object({
      slot: BootloaderSlotSchema,
      size: z.coerce.number().int().min(1),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .strict(),
  ACTIVATE: z.object({ slot: BootloaderSlotSchema }).strict(),
  REBOOT: none,
  SLOTS: none,
  CONFIRM: none,
} as const;

/** State of one slot as SLOTS reports it. */
export const SlotStateSchema = z.enum(['empty', 'writing', 'verified', 'bad', 'confirmed']);
export type SlotState = z.infer<typeof SlotStateSchema>;

/** SLOTS reply values, parsed. */
export const BootloaderSlotsSchema = z.object({
  /** `boot` after BOOTLOADER until REBOOT; `app` while an image runs. */
  mode: z.enum(['app', 'boot']),
  active: BootloaderSlotSchema,
  /** The slot on trial (activated, not yet confirmed); empty when none. */
  pending: z.union([BootloaderSlotSchema, z.literal('')]),
  /** Boots of the trial slot so far. */
  boots: num,
  max_boots: num,
  /** 1 when the last boot fell back to the previous slot because the trial slot never confirmed. */
  fell_back: flag,
  a_state: SlotStateSchema,
  /** Version from the image header; empty when the slot holds no readable image. */
  a_fw: z.string(),
  /** Bytes written so far: where a resumed transfer continues. */
  a_len: num,
  b_state: SlotStateSchema,
  b_fw: z.string(),
  b_len: num,
});
export type BootloaderSlots = z.infer<typeof BootloaderSlotsSchema>;

/** FLASH arguments for writing `image` from byte `from` on: what an agent sends, chunk by chunk, in order. */
export function* flashChunks(
  image: Uint8Array,
  from = 0,
): Generator<{ off: number; data: string; crc: string; end: number }> {
  for (let off = from; off < image.length; off += FLASH_CHUNK_BYTES) {
    const chunk = image.subarray(off, Math.min(off + FLASH_CHUNK_BYTES, image.length));
    yield {
      off,
      data: Buffer.from(chunk).toString('hex').toUpperCase(),
      crc: crc16Bytes(chunk).toString(16).toUpperCase().padStart(4, '0'),
      end: off + chunk.length,
    };
  }
}
