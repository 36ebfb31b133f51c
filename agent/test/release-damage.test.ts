import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { waitFor } from '@crema/protocol/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log/logger';
import { Launcher, type LauncherEvent } from '../src/updates/slots/launcher';
import { pointerFile, readPointer, writePointer } from '../src/updates/slots/pointer';
import { releaseEntry, writeRelease } from '../src/updates/slots/release-dir';
import { type Builds, buildFixtures, fixtureEnv, makeLayout } from './helpers/releases';

/**
 * Damage the launcher's own writes never cause (they are atomic) but a disk can: a garbled pointer, a slot
 * whose program no longer matches its release.json. The launcher still starts a complete release.
 */
describe('crema-agent-launcher on a damaged layout', { timeout: 30_000 }, () => {
  let builds: Builds;
  let root: string;
  let launcher: Launcher | undefined;
  let events: LauncherEvent[];

  beforeAll(async () => {
    builds = await buildFixtures();
  }, 60_000);

  afterAll(() => builds?.dispose());

  afterEach(async () => {
    await launcher?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /** Slot a holds 1.0.0 (staged first), slot b 2.0.0. */
  async function twoReleases(): Promise<void> {
    root = await makeLayout(builds.release.good, '1.0.0');
    await writeRelease(root, 'b', builds.release.good, '2.0.0', Date.now() + 1_000);
  }

  function start(): void {
    events = [];
    launcher = new Launcher({
      root,
      args: [],
      logger: silentLogger,
      // No broker: the releases start (that is what is checked) but never confirm.
      env: fixtureEnv(root, 'mqtt://127.0.0.1:1', 'dev', 'x'),
      hangTimeoutMs: 10_000,
      onEvent: (e) => events.push(e),
    });
    launcher.start();
  }

  const flipByte = (file: string) => {
    const bytes = readFileSync(file);
    bytes[10] = (bytes[10] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);
  };

  it('a garbled pointer: starts the release staged first and writes a valid pointer', async () => {
    await twoReleases();
    writeFileSync(pointerFile(root), '{"v":1,"act');
    start();
    const started = await waitFor(() => events.find((e) => e.kind === 'started'));
    expect(started).toMatchObject({ slot: 'a', version: '1.0.0', trial: false });
    expect(readPointer(root)).toEqual({ v: 1, active: 'a' });
  });

  it('an active slot whose program was damaged: starts the other, complete slot', async () => {
    await twoReleases();
    writePointer(root, { v: 1, active: 'b' });
    flipByte(releaseEntry(root, 'b'));
    start();
    const started = await waitFor(() => events.find((e) => e.kind === 'started'));
    expect(started).toMatchObject({ slot: 'a', version: '1.0.0' });
    expect(events.find((e) => e.kind === 'slot_damaged')).toEqual({
      kind: 'slot_damaged',
      slot: 'b',
      switchedTo: 'a',
    });
    expect(readPointer(root)?.active).toBe('a');
  });

  it('a trial whose program was damaged: rolled back before it is started', async () => {
    await twoReleases();
    writePointer(root, {
      v: 1,
      active: 'b',
      trial: {
        slot: 'b',
        version: '2.0.0',
        from: { slot: 'a', version: '1.0.0' },
        activatedAt: 1,
        attempts: 0,
      },
    });
    flipByte(releaseEntry(root, 'b'));
    start();
    const started = await waitFor(() => events.find((e) => e.kind === 'started'));
    expect(started).toMatchObject({ slot: 'a', version: '1.0.0', trial: false });
    expect(readPointer(root)?.last).toMatchObject({
      kind: 'rolled_back',
      version: '2.0.0',
      reason: 'release 2.0.0 in slot b is damaged',
    });
  });
});
