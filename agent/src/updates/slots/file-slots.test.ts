import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@crema/protocol/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentError } from '../../errors';
import { FileReleaseSlots, type LauncherChannel } from './file-slots';
import { pointerFile, readPointer, writePointer } from './pointer';
import { readRelease, releaseEntry, writeRelease } from './release-dir';

/** The slots on real files in a private directory (a layout as `crema-agent-launcher install` leaves it). */
describe('FileReleaseSlots', () => {
  let root: string;
  let v2: string;

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'crema-file-slots-'));
    const v1 = join(root, 'v1.mjs');
    v2 = join(root, 'v2.mjs');
    writeFileSync(v1, 'console.log("1.0.0");\n');
    writeFileSync(v2, 'console.log("2.0.0");\n');
    await writeRelease(root, 'a', v1, '1.0.0', 1);
    writePointer(root, { v: 1, active: 'a' });
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const codeOf = async (work: Promise<unknown>) =>
    work.then(
      () => 'accepted',
      (err: AgentError) => err.code,
    );

  it('stages into the other slot, activates a trial, and the trial start confirms it', async () => {
    const running = FileReleaseSlots.open({ root, slot: 'a' });
    expect(running.running()).toEqual({ slot: 'a', version: '1.0.0' });
    expect(running.outcome()).toEqual({ kind: 'normal' });
    await running.stage(v2, '2.0.0');
    expect(readRelease(root, 'b').version).toBe('2.0.0');
    expect(readPointer(root)).toEqual({ v: 1, active: 'a' });
    await running.activate('2.0.0');
    expect(readPointer(root)?.trial).toMatchObject({ slot: 'b', version: '2.0.0', from: { slot: 'a' } });

    const trial = FileReleaseSlots.open({ root, slot: 'b' });
    expect(trial.outcome()).toEqual({ kind: 'trial', version: '2.0.0', fromVersion: '1.0.0' });
    let confirmed = false;
    void trial.whenConfirmed().then(() => {
      confirmed = true;
    });
    await trial.confirm();
    await Promise.resolve();
    expect(confirmed).toBe(true);
    expect(readPointer(root)).toMatchObject({ active: 'b', last: { kind: 'confirmed', version: '2.0.0' } });
    expect(readPointer(root)?.trial).toBeUndefined();
  });

  it('refuses to stage or activate while a trial is unresolved, and activates only the staged version', async () => {
    const running = FileReleaseSlots.open({ root, slot: 'a' });
    await running.stage(v2, '2.0.0');
    expect(await codeOf(running.activate('2.0.1'))).toBe('CONFLICT');
    expect(readPointer(root)).toEqual({ v: 1, active: 'a' });
    await running.activate('2.0.0');
    const trial = FileReleaseSlots.open({ root, slot: 'b' });
    expect(await codeOf(trial.stage(v2, '3.0.0'))).toBe('CONFLICT');
    expect(readRelease(root, 'a').version).toBe('1.0.0');
  });

  it('refuses to activate a staged release damaged on disk, leaving the pointer as it was', async () => {
    const running = FileReleaseSlots.open({ root, slot: 'a' });
    await running.stage(v2, '2.0.0');
    const entry = releaseEntry(root, 'b');
    const bytes = readFileSync(entry);
    bytes[3] = (bytes[3] ?? 0) ^ 0xff;
    writeFileSync(entry, bytes);
    const before = readFileSync(pointerFile(root), 'utf8');
    expect(await codeOf(running.activate('2.0.0'))).toBe('UPDATE_IMAGE_INVALID');
    expect(readFileSync(pointerFile(root), 'utf8')).toBe(before);
  });

  it('reports a rollback at every start until the next stage', async () => {
    writePointer(root, {
      v: 1,
      active: 'a',
      last: { kind: 'rolled_back', version: '2.0.0', fromVersion: '1.0.0', reason: 'hung', at: 5 },
    });
    const expected = { kind: 'rolled_back', version: '2.0.0', fromVersion: '1.0.0', reason: 'hung' };
    expect(FileReleaseSlots.open({ root, slot: 'a' }).outcome()).toEqual(expected);
    const again = FileReleaseSlots.open({ root, slot: 'a' });
    expect(again.outcome()).toEqual(expected);
    await again.stage(v2, '2.0.1');
    expect(FileReleaseSlots.open({ root, slot: 'a' }).outcome()).toEqual({ kind: 'normal' });
  });

  it('under a launcher, confirms through it and fails when it does not answer in time', async () => {
    const clock = new FakeClock(1_000);
    const sent: unknown[] = [];
    const channel = Object.assign(new EventEmitter(), {
      send: (m: unknown) => {
        sent.push(m);
        return true;
      },
    }) as unknown as LauncherChannel & EventEmitter;
    const answered = FileReleaseSlots.open({ root, slot: 'a', clock, launcher: channel });
    const confirming = answered.confirm();
    expect(sent).toEqual([{ type: 'crema.ready', id: 1_000 }]);
    channel.emit('message', { type: 'crema.confirmed', id: 999, ok: true });
    channel.emit('message', { type: 'crema.confirmed', id: 1_000, ok: true });
    await confirming;
    // The launcher is the pointer's writer here: the slots did not write it themselves.
    expect(readPointer(root)).toEqual({ v: 1, active: 'a' });

    const silent = FileReleaseSlots.open({
      root,
      slot: 'a',
      clock,
      launcher: channel,
      confirmTimeoutMs: 500,
    });
    const waiting = codeOf(silent.confirm());
    await clock.advance(500);
    expect(await waiting).toBe('UNAVAILABLE');
  });
});
