import { createHash } from 'node:crypto';
import { crc16Bytes, flashChunks } from '@crema/protocol';
import { expect } from 'vitest';
import type { LineClient } from './line-client';

export const crcHex = (bytes: Uint8Array) => crc16Bytes(bytes).toString(16).toUpperCase().padStart(4, '0');
export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Writes `image[from, to)` to `slot` chunk by chunk, as an agent would; throws on the first refused chunk. */
export async function flashRange(
  client: LineClient,
  slot: 'a' | 'b',
  image: Uint8Array,
  from = 0,
  to = image.length,
): Promise<void> {
  for (const c of flashChunks(image.subarray(0, to), from)) {
    const reply = await client.request('FLASH', { slot, off: c.off, data: c.data, crc: c.crc });
    if (reply.verb !== 'OK') throw new Error(`FLASH at ${c.off}: ${JSON.stringify(reply.args)}`);
  }
}

/** The whole install up to the reboot: bootloader, flash, verify, activate, reboot. */
export async function install(client: LineClient, slot: 'a' | 'b', image: Uint8Array): Promise<void> {
  expect((await client.request('BOOTLOADER')).verb).toBe('OK');
  await flashRange(client, slot, image);
  const verified = await client.request('VERIFY', { slot, size: image.length, sha256: sha256Hex(image) });
  expect(verified.verb, JSON.stringify(verified.args)).toBe('OK');
  expect((await client.request('ACTIVATE', { slot })).verb).toBe('OK');
  expect((await client.request('REBOOT')).verb).toBe('OK');
}
