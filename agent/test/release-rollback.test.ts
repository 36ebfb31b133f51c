import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@crema/protocol/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log/logger';
import { Launcher, type LauncherEvent } from '../src/updates/slots/launcher';
import { readPointer } from '../src/updates/slots/pointer';
import { HubDouble } from './helpers/hub-double';
import {
  type Behaviour,
  type Builds,
  buildFixtures,
  fixtureEnv,
  makeLayout,
  newCredential,
  readLog,
} from './helpers/releases';

/**
 * The launcher with real release programs (child processes) against a real MQTT broker: an update that gets
 * ready and connected is confirmed and stays; one that crashes at start, one that never reaches the hub and
 * one that hangs are each rolled back within the deadline, the previous release runs again and reports
 * `rolled_back` with the reason.
 */
// Generous for a loaded CI machine: a good release must make it in time on the first try.
const DEADLINE_MS = 8_000;
const HANG_MS = 3_000;

describe('crema-agent-launcher: trial, confirmation and rollback', { timeout: 60_000 }, () => {
  let builds: Builds;
  let hub: HubDouble;
  let hubDir: string;
  let root: string;
  let launcher: Launcher;
  let events: LauncherEvent[];
  let notified: string[];
  const deviceId = 'slots-dev-1';
  const credential = newCredential();

  beforeAll(async () => {
    builds = await buildFixtures();
    hubDir = join(tmpdir(), `crema-slots-hub-${process.pid}`);
    rmSync(hubDir, { recursive: true, force: true });
    hub = new HubDouble(`${hubDir}.sqlite`);
    hub.credentials.set(deviceId, credential);
    await hub.startBroker(0);
  }, 60_000);

  afterAll(async () => {
    await hub?.stopBroker();
    hub?.close();
    rmSync(`${hubDir}.sqlite`, { force: true });
    builds?.dispose();
  });

  beforeEach(async () => {
    root = await makeLayout(builds.release.good, '1.0.0');
    events = [];
    notified = [];
    launcher = new Launcher({
      root,
      args: [],
      logger: silentLogger,
      env: fixtureEnv(root, hub.url, deviceId, credential),
      trialDeadlineMs: DEADLINE_MS,
      trialMaxStarts: 3,
      hangTimeoutMs: HANG_MS,
      stopGraceMs: 500,
      restart: { initialMs: 50, maxMs: 200 },
      onEvent: (e) => events.push(e),
      notifier: { watchdogMs: 200, notify: (...states) => notified.push(...states) },
    });
    launcher.start();
    await waitFor(() => events.some((e) => e.kind === 'ready'), 20_000);
  });

  afterEach(async () => {
    await launcher.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const log = () => readLog(join(root, 'fixture.log'));

  /** What the upgrade_agent handler does inside the running release: stage, activate, exit. */
  async function upgradeTo(behaviour: Behaviour, version: string): Promise<number> {
    writeFileSync(join(root, 'upgrade.json'), JSON.stringify({ file: builds.release[behaviour], version }));
    const pid = launcher.pid!;
    const before = events.length;
    process.kill(pid, 'SIGUSR2');
    await waitFor(() => events.slice(before).some((e) => e.kind === 'started' && e.trial), 10_000);
    return performance.now();
  }

  async function expectRolledBack(version: string, reason: RegExp, startedAt: number, withinMs: number) {
    const back = await waitFor(() => events.find((e) => e.kind === 'rolled_back'), 20_000);
    expect(performance.now() - startedAt).toBeLessThan(withinMs);
    expect(back).toMatchObject({ version, fromVersion: '1.0.0' });
    expect((back as { reason: string }).reason).toMatch(reason);
    // The previous release is running again, and its start says what happened.
    const restart = await waitFor(() =>
      log().find((l) => l.event === 'start' && l.outcome?.kind === 'rolled_back'),
    );
    expect(restart).toMatchObject({ slot: 'a', version: '1.0.0' });
    expect(restart.outcome).toMatchObject({ version, fromVersion: '1.0.0' });
    expect(restart.outcome?.reason).toMatch(reason);
    const pointer = readPointer(root);
    expect(pointer?.active).toBe('a');
    expect(pointer?.trial).toBeUndefined();
    expect(pointer?.last).toMatchObject({ kind: 'rolled_back', version });
    await waitFor(() => log().some((l) => l.event === 'confirmed' && l.pid === restart.pid));
  }

  it('confirms a good release once it is connected, and keeps it across restarts', async () => {
    await upgradeTo('good', '2.0.0');
    const confirmed = await waitFor(() => events.find((e) => e.kind === 'ready' && e.confirmed), 20_000);
    expect(confirmed).toMatchObject({ slot: 'b', version: '2.0.0' });
    const trialStart = log().find((l) => l.event === 'start' && l.version === '2.0.0');
    expect(trialStart?.outcome).toEqual({ kind: 'trial', version: '2.0.0', fromVersion: '1.0.0' });
    expect(readPointer(root)).toMatchObject({
      active: 'b',
      last: { kind: 'confirmed', version: '2.0.0', fromVersion: '1.0.0' },
    });
    expect(readPointer(root)?.trial).toBeUndefined();
    // A crash of the confirmed release is an ordinary restart: the same release, a normal start.
    process.kill(launcher.pid!, 'SIGKILL');
    const again = await waitFor(() => log().filter((l) => l.event === 'start' && l.version === '2.0.0')[1]);
    expect(again).toMatchObject({ slot: 'b', outcome: { kind: 'normal' } });
    expect(events.some((e) => e.kind === 'rolled_back')).toBe(false);
    // systemd heard from the launcher: ready once, the watchdog regularly, what runs in the status.
    expect(notified.filter((s) => s === 'READY=1')).toHaveLength(1);
    expect(notified.filter((s) => s === 'WATCHDOG=1').length).toBeGreaterThan(3);
    expect(notified).toContain('STATUS=agent 2.0.0 (slot b, on trial)');
  });

  it('rolls back a release that crashes at start, after its starts run out', async () => {
    const at = await upgradeTo('crash', '2.0.0');
    await expectRolledBack('2.0.0', /not ready after 3 starts \(last: exit code 1\)/, at, 3 * DEADLINE_MS);
    expect(events.filter((e) => e.kind === 'started' && e.trial)).toHaveLength(3);
  });

  it('rolls back a release that starts but never reaches the hub, at the deadline', async () => {
    const at = await upgradeTo('never-ready', '2.0.0');
    await expectRolledBack('2.0.0', /not ready and connected to the hub within 8 s/, at, DEADLINE_MS + 3_000);
    expect(performance.now() - at).toBeGreaterThanOrEqual(DEADLINE_MS);
  });

  it('rolls back a release that hangs (no heartbeat, deaf to SIGTERM)', async () => {
    const at = await upgradeTo('hang', '2.0.0');
    await expectRolledBack('2.0.0', /hung: no heartbeat for 3 s/, at, DEADLINE_MS + 3_000);
    // Once it got as far as its hang (SIGTERM handled, but by a blocked loop), only SIGKILL ends it; on a
    // loaded machine it may still be loading when the launcher gives up, and SIGTERM ends it then.
    const reachedHang = log().some((l) => l.event === 'start' && l.version === '2.0.0');
    const exit = events.find((e) => e.kind === 'exited' && e.slot === 'b');
    expect(exit).toMatchObject({ how: reachedHang ? 'signal SIGKILL' : 'signal SIGTERM' });
  });
});
