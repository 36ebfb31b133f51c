import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flashChunks, generateSigningKey, sha256Hex } from '@crema/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { salesLocked } from '../src/orders/order-service';
import { waitFor } from './helpers/sim';
import {
  type Machine,
  manifestFor,
  progressOf,
  sign,
  TestImages,
  updatableMachine,
  upgradeCommand,
} from './helpers/updates';

/**
 * Brewer firmware updates end to end against the real simulator (its two-slot bootloader and test images):
 * the agent's update service downloads from a real HTTP server with Range, checks the signed manifest and the
 * bytes, flashes over the brewer line, reboots, runs the health check and confirms or rolls back.
 */
let machine: Machine | undefined;
afterEach(async () => {
  await machine?.stop();
  machine = undefined;
});

const slotsOf = (m: Machine) => m.sim.bootloader.table();
const stagesOf = (m: Machine) => progressOf(m.store.db).map((p) => p.stage);

describe('firmware update: bad artifacts are refused before a byte reaches the slots', () => {
  const image = TestImages.good('cm-1', '1.5.0');
  const stranger = generateSigningKey('release-1'); // same kid, another key
  const cases: [string, (m: Machine) => Promise<string>, string][] = [
    [
      'a flipped byte',
      async (m) => {
        const bad = image.slice();
        bad[3000] = (bad[3000] ?? 0) ^ 0x01;
        const manifest = manifestFor(image);
        m.server.files.set(manifest.sha256, bad);
        return sign(manifest);
      },
      'UPDATE_HASH_MISMATCH',
    ],
    [
      'a wrong key',
      async (m) => {
        const manifest = manifestFor(image);
        m.server.files.set(manifest.sha256, image);
        return sign(manifest, stranger);
      },
      'UPDATE_SIGNATURE_INVALID',
    ],
    [
      'a missing signature',
      async (m) => {
        const manifest = manifestFor(image);
        m.server.files.set(manifest.sha256, image);
        const [h, p] = (await sign(manifest)).split('.');
        return `${h}.${p}.`;
      },
      'UPDATE_SIGNATURE_INVALID',
    ],
    [
      'a truncated file',
      async (m) => {
        const manifest = manifestFor(image);
        m.server.files.set(manifest.sha256, image.subarray(0, image.length - 100));
        return sign(manifest);
      },
      'UPDATE_SIZE_MISMATCH',
    ],
    [
      'a wrong hash',
      async (m) => {
        const manifest = manifestFor(image, { sha256: sha256Hex(image.subarray(1)) });
        m.server.files.set(manifest.sha256, image);
        return sign(manifest);
      },
      'UPDATE_HASH_MISMATCH',
    ],
    [
      'another machine model',
      async (m) => {
        const manifest = manifestFor(image, { models: ['cm-9'] });
        m.server.files.set(manifest.sha256, image);
        return sign(manifest);
      },
      'UPDATE_MODEL_MISMATCH',
    ],
    [
      'an older version',
      async (m) => {
        const old = TestImages.good('cm-1', '1.4.0');
        const manifest = manifestFor(old, { version: '1.4.0' });
        m.server.files.set(manifest.sha256, old);
        return sign(manifest);
      },
      'UPDATE_DOWNGRADE',
    ],
  ];

  it.each(cases)(
    '%s',
    async (_name, prepare, code) => {
      machine = await updatableMachine();
      const m = machine;
      const before = slotsOf(m);
      const result = await m.executor.receive(upgradeCommand(await prepare(m)));
      expect(result).toMatchObject({ status: 'failed', code });
      // Not a byte written: slot b is as empty as before, slot a still runs and the controller never left its app.
      expect(slotsOf(m)).toEqual(before);
      expect(before).toMatchObject({ mode: 'app', active: 'a', b_state: 'empty', b_len: 0 });
      expect(m.sim.model.spec.fw).toBe('1.4.2');
      const reports = progressOf(m.store.db);
      expect(reports.at(-1)).toMatchObject({ stage: 'failed', reason: code });
      expect(reports.filter((p) => p.stage === 'failed')).toHaveLength(1);
      expect(stagesOf(m)).not.toContain('installing');
      expect(salesLocked(m.store.settings)).toBe(false);
    },
    30_000,
  );
});

describe('firmware update over the brewer line', () => {
  it('installs a good image over a pty: INFO shows it, the slot is confirmed, sales reopen', async () => {
    machine = await updatableMachine({ pty: true });
    const m = machine;
    const image = TestImages.good('cm-1', '1.5.0');
    const manifest = manifestFor(image, { minVersion: '1.4.0' });
    m.server.files.set(manifest.sha256, image);
    let lockedWhileBooting = false;
    const watch = setInterval(() => {
      if (m.sim.bootloader.mode === 'boot' && salesLocked(m.store.settings)) lockedWhileBooting = true;
    }, 5);
    const result = await m.executor.receive(upgradeCommand(await sign(manifest)));
    clearInterval(watch);
    expect(result).toMatchObject({ status: 'succeeded', output: { version: '1.5.0', fromVersion: '1.4.2' } });
    expect(await m.brewer.request('INFO')).toMatchObject({ fw: '1.5.0', model: 'cm-1' });
    expect(slotsOf(m)).toMatchObject({ active: 'b', pending: '', b_state: 'confirmed', b_fw: '1.5.0' });
    expect(lockedWhileBooting).toBe(true);
    expect(salesLocked(m.store.settings)).toBe(false);
    const stages = [...new Set(stagesOf(m))];
    expect(stages).toEqual([
      'downloading',
      'verifying',
      'installing',
      'rebooting',
      'health_checking',
      'succeeded',
    ]);
    expect(stagesOf(m).filter((s) => s === 'succeeded')).toHaveLength(1);
    // Anything not newer than what now runs is refused (anti-rollback).
    const floorRefused = await m.executor.receive(
      upgradeCommand(await sign(manifestFor(TestImages.good('cm-1', '1.4.9'), { version: '1.4.9' }))),
    );
    expect(floorRefused).toMatchObject({ status: 'failed', code: 'UPDATE_DOWNGRADE' });
  }, 60_000);

  it.each([
    ['coldBoiler', TestImages.coldBoiler('cm-1', '1.5.0'), 'HEALTH_CHECK_FAILED', /boiler/],
    ['crashAtBoot', TestImages.crashAtBoot('cm-1', '1.5.0'), 'UPDATE_BOOT_FAILED', /did not start/],
    ['wrongVersion', TestImages.wrongVersion('cm-1', '1.5.0', '1.4.9'), 'HEALTH_CHECK_FAILED', /1\.4\.9/],
  ])(
    'a %s image fails its health check and rolls back to the old version',
    async (_n, image, reason, detail) => {
      machine = await updatableMachine();
      const m = machine;
      const manifest = manifestFor(image);
      m.server.files.set(manifest.sha256, image);
      const result = await m.executor.receive(upgradeCommand(await sign(manifest)));
      expect(result).toMatchObject({ status: 'failed', code: reason });
      const last = progressOf(m.store.db).at(-1);
      expect(last).toMatchObject({ stage: 'rolled_back', reason, version: '1.5.0', fromVersion: '1.4.2' });
      expect(last?.detail).toMatch(detail);
      expect(await m.brewer.request('INFO')).toMatchObject({ fw: '1.4.2' });
      expect(slotsOf(m)).toMatchObject({ mode: 'app', active: 'a', pending: '', a_state: 'confirmed' });
      expect(salesLocked(m.store.settings)).toBe(false);
    },
    60_000,
  );

  it('resumes the flash after the brewer link drops mid-write and ends on the new image', async () => {
    machine = await updatableMachine({ flashMsPerChunk: 300 });
    const m = machine;
    const image = TestImages.good('cm-1', '1.5.0');
    const manifest = manifestFor(image);
    m.server.files.set(manifest.sha256, image);
    const done = m.executor.receive(upgradeCommand(await sign(manifest)));
    await waitFor(() => (slotsOf(m).b_len as number) >= 1500 || undefined, 20_000, 'flash under way');
    m.sim.faults.inject('brewer_link_down');
    await waitFor(() => !m.brewer.connected || undefined, 10_000, 'link down');
    const lenAtDrop = slotsOf(m).b_len as number;
    await new Promise((r) => setTimeout(r, 500));
    m.sim.faults.clear('brewer_link_down');
    const result = await done;
    expect(result).toMatchObject({ status: 'succeeded' });
    expect(lenAtDrop).toBeLessThan(image.length);
    expect(await m.brewer.request('INFO')).toMatchObject({ fw: '1.5.0' });
    expect(slotsOf(m)).toMatchObject({ active: 'b', pending: '', b_state: 'confirmed' });
  }, 60_000);

  it('waits for the sale in progress (deferred) and installs afterwards', async () => {
    machine = await updatableMachine();
    const m = machine;
    const image = TestImages.good('cm-1', '1.5.0');
    const manifest = manifestFor(image);
    m.server.files.set(manifest.sha256, image);
    m.setBusy(true);
    const command = upgradeCommand(await sign(manifest));
    const done = m.executor.receive(command);
    await waitFor(
      () => m.progress.find((p) => p.commandId === command.commandId && p.status === 'deferred'),
      5_000,
      'deferred report',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(m.server.requests).toHaveLength(0);
    expect(slotsOf(m)).toMatchObject({ mode: 'app', b_len: 0 });
    m.setBusy(false);
    expect(await done).toMatchObject({ status: 'succeeded' });
    expect(slotsOf(m)).toMatchObject({ active: 'b', b_fw: '1.5.0' });
  }, 60_000);

  it('resumes an interrupted download with Range', async () => {
    machine = await updatableMachine();
    const m = machine;
    const image = TestImages.good('cm-1', '1.5.0');
    const manifest = manifestFor(image);
    m.server.files.set(manifest.sha256, image);
    m.server.cutAfter = 2048;
    const result = await m.executor.receive(upgradeCommand(await sign(manifest)));
    expect(result).toMatchObject({ status: 'succeeded' });
    const ranges = m.server.requests.map((r) => r.range);
    expect(ranges[0]).toBeUndefined();
    expect(ranges.slice(1).some((r) => r !== undefined && /^bytes=\d+-$/.test(r) && r !== 'bytes=0-')).toBe(
      true,
    );
  }, 60_000);

  it('fetches afresh when bytes staged before a power cut do not verify', async () => {
    machine = await updatableMachine();
    const m = machine;
    const image = TestImages.good('cm-1', '1.5.0');
    const manifest = manifestFor(image);
    m.server.files.set(manifest.sha256, image);
    // A power cut left the staged file with a damaged tail (zeros where bytes never reached the disk).
    mkdirSync(m.stagingDir, { recursive: true });
    const damaged = image.slice(0, 2000);
    damaged.fill(0, 1500);
    writeFileSync(join(m.stagingDir, `${manifest.sha256}.part`), damaged);
    const result = await m.executor.receive(upgradeCommand(await sign(manifest)));
    expect(result).toMatchObject({ status: 'succeeded' });
    expect(m.server.requests.map((r) => r.range)).toEqual(['bytes=2000-', undefined]);
    expect(slotsOf(m)).toMatchObject({ active: 'b', b_fw: '1.5.0', b_state: 'confirmed' });
  }, 60_000);

  it('brings back a brewer left in its bootloader or on an unconfirmed trial when no update runs', async () => {
    machine = await updatableMachine();
    const m = machine;
    await m.brewer.request('BOOTLOADER');
    expect(slotsOf(m).mode).toBe('boot');
    // The next start of the update service (an agent restart) finds no install under way.
    await m.updates.stop();
    m.updates.start();
    await waitFor(() => slotsOf(m).mode === 'app' || undefined, 10_000, 'back in the application');

    // A trial image nobody is going to confirm (written by hand here, not through an install).
    const image = TestImages.good('cm-1', '1.5.0');
    await waitFor(() => m.brewer.connected || undefined, 10_000, 'brewer up');
    await m.brewer.request('BOOTLOADER');
    for (const c of flashChunks(image))
      await m.brewer.request('FLASH', { slot: 'b', off: c.off, data: c.data, crc: c.crc });
    await m.brewer.request('VERIFY', { slot: 'b', size: image.length, sha256: sha256Hex(image) });
    await m.brewer.request('ACTIVATE', { slot: 'b' });
    await m.brewer.request('REBOOT').catch(() => undefined);
    await waitFor(
      () =>
        (slotsOf(m).active === 'a' && slotsOf(m).pending === '' && slotsOf(m).mode === 'app') || undefined,
      15_000,
      'trial rolled back',
    );
    expect(m.sim.model.spec.fw).toBe('1.4.2');
  }, 60_000);
});
