import { createHash } from 'node:crypto';
import { crc16Bytes } from '@crema/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bootloader } from './bootloader';
import { buildImage, parseImage, TestImages } from './image';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const crc = (b: Uint8Array) => crc16Bytes(b).toString(16).padStart(4, '0');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const factory = () => new Bootloader('cm-1', buildImage({ model: 'cm-1', version: '1.4.2' }), 2);

describe('image format', () => {
  it('round-trips header and program and refuses anything that is not an image', () => {
    const bytes = TestImages.coldBoiler('cm-1', '1.5.0');
    expect(parseImage(bytes)).toEqual({ model: 'cm-1', version: '1.5.0', program: { heaterPct: 30 } });
    expect(parseImage(bytes.subarray(0, 10))).toBeUndefined();
    expect(parseImage(new TextEncoder().encode('#!/bin/sh\nexit 0\n'))).toBeUndefined();
  });
});

describe('bootloader state', () => {
  it('refuses an image for another model at VERIFY', () => {
    const bl = factory();
    const image = TestImages.good('cm-2', '1.5.0');
    bl.enter(false);
    for (let off = 0; off < image.length; off += 48) {
      const chunk = image.subarray(off, off + 48);
      expect(bl.flash('b', off, hex(chunk), crc(chunk)).ok).toBe(true);
    }
    expect(bl.verify('b', image.length, sha(image))).toMatchObject({ ok: false, code: 'BAD_IMAGE' });
  });

  it('activating the confirmed slot during a trial is an immediate rollback', () => {
    const bl = factory();
    const image = TestImages.good('cm-1', '1.5.0');
    bl.enter(false);
    for (let off = 0; off < image.length; off += 48) {
      const chunk = image.subarray(off, off + 48);
      bl.flash('b', off, hex(chunk), crc(chunk));
    }
    expect(bl.verify('b', image.length, sha(image)).ok).toBe(true);
    bl.activate('b');
    expect(bl.nextBoot().version).toBe('1.5.0');
    bl.enter(false);
    expect(bl.activate('a')).toMatchObject({ ok: true });
    expect(bl.nextBoot().version).toBe('1.4.2');
    expect(bl.table()).toMatchObject({ active: 'a', pending: '', fell_back: 0 });
  });

  it('any chunking, with rewrites and corrupted chunks refused, yields exactly the image (property)', () => {
    const image = TestImages.good('cm-1', '1.5.0');
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ size: fc.integer({ min: 1, max: 48 }), back: fc.nat(100), corrupt: fc.boolean() }),
          {
            minLength: 1,
            maxLength: 400,
          },
        ),
        (plan) => {
          const bl = factory();
          bl.enter(false);
          let len = 0;
          let step = 0;
          while (len < image.length) {
            const p = plan[step++ % plan.length] ?? { size: 48, back: 0, corrupt: false };
            // Never back by a whole chunk, so every step makes progress.
            const off = Math.max(0, len - Math.min(p.back, p.size - 1));
            const chunk = image.slice(off, Math.min(off + p.size, image.length));
            if (p.corrupt) {
              const bad = chunk.slice();
              bad[0] = (bad[0] ?? 0) ^ 0xff;
              if (bl.flash('b', off, hex(bad), crc(chunk)).ok) return false;
            }
            const r = bl.flash('b', off, hex(chunk), crc(chunk));
            if (!r.ok) return false;
            len = off + chunk.length;
          }
          return bl.verify('b', image.length, sha(image)).ok;
        },
      ),
      { numRuns: 50 },
    );
  });
});
