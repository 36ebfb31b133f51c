import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from '@crema/protocol/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pointer, readPointer } from '../src/updates/slots/pointer';
import { readRelease } from '../src/updates/slots/release-dir';
import { HubDouble } from './helpers/hub-double';
import {
  type Behaviour,
  type Builds,
  buildFixtures,
  buildStager,
  fixtureEnv,
  makeLayout,
  newCredential,
  readLog,
  spawnLauncher,
} from './helpers/releases';
import { exited, prng } from './support';

/**
 * Pulls the plug at random moments of an agent self-update, with a fixed seed (CREMA_SLOTS_SEED replays
 * another): (1) the process staging, activating and resolving updates is SIGKILLed mid-way; (2) the launcher
 * is SIGKILLed (its agent goes with it) while a good or bad release is on trial. After every kill the pointer
 * must name a complete release (and a trial its complete predecessor), and a launcher started afresh must
 * end on a running, confirmed release whose start reports an outcome consistent with the pointer.
 * SIGKILL loses no written page the kernel holds; the fsync ordering that covers a real power cut is
 * described in agent/README.md ("Self-update").
 */
const SEED = Number(process.env.CREMA_SLOTS_SEED ?? 20_261_203);
const STAGER_KILLS = Number(process.env.CREMA_SLOTS_STAGER_KILLS ?? 24);
const LAUNCHER_KILLS = Number(process.env.CREMA_SLOTS_LAUNCHER_KILLS ?? 6);
const FLAGS = ['--trial-deadline-s', '4', '--trial-max-starts', '3', '--hang-timeout-s', '2'];

/** The pointer names releases that start: the active slot is complete, and so is a trial's way back. */
function expectStartable(root: string): Pointer {
  const pointer = readPointer(root);
  expect(pointer).toBeDefined();
  const p = pointer as Pointer;
  expect(() => readRelease(root, p.active)).not.toThrow();
  if (p.trial) {
    expect(p.trial.slot).toBe(p.active);
    expect(readRelease(root, p.active).version).toBe(p.trial.version);
    expect(() => readRelease(root, p.trial!.from.slot)).not.toThrow();
  }
  return p;
}

/**
 * The outcome the release running at the end must have reported at its start, from the pointer before the
 * launcher started (`before`) and after it settled (`after`): the previous release after a rollback, the trial
 * itself when it was confirmed in this run, an ordinary start otherwise.
 */
function expectedOutcome(before: Pointer, after: Pointer): string {
  if (after.last?.kind === 'rolled_back') return 'rolled_back';
  return before.trial ? 'trial' : 'normal';
}

describe('self-update under SIGKILL', { timeout: 300_000 }, () => {
  let builds: Builds;
  let hub: HubDouble;
  const hubFile = join(tmpdir(), `crema-slots-kill-hub-${process.pid}.sqlite`);
  const deviceId = 'slots-kill-1';
  const credential = newCredential();
  const roots: string[] = [];

  beforeAll(async () => {
    console.log(`self-update kill test: seed ${SEED} (CREMA_SLOTS_SEED replays another)`);
    builds = await buildFixtures();
    hub = new HubDouble(hubFile);
    hub.credentials.set(deviceId, credential);
    await hub.startBroker(0);
  }, 60_000);

  afterAll(async () => {
    await hub?.stopBroker();
    hub?.close();
    rmSync(hubFile, { force: true });
    builds?.dispose();
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  /**
   * Starts the launcher, waits until its agent runs confirmed with no trial left, stops it, and checks that
   * the start of the release that confirmed reported the outcome the pointer implies.
   */
  async function settle(root: string, env: NodeJS.ProcessEnv): Promise<Pointer> {
    const before = expectStartable(root);
    const log = join(root, 'fixture.log');
    const seen = readLog(log).length;
    const launcher = spawnLauncher(builds.launcher, root, env, FLAGS);
    try {
      const confirmed = await waitFor(
        () => {
          const p = readPointer(root);
          const entries = readLog(log).slice(seen);
          const last = entries.filter((e) => e.event === 'confirmed').at(-1);
          return !p?.trial && last ? last : undefined;
        },
        30_000,
        'a confirmed release',
      );
      const start = readLog(log)
        .slice(seen)
        .find((e) => e.event === 'start' && e.pid === confirmed.pid);
      const after = expectStartable(root);
      expect(start?.outcome?.kind).toBe(expectedOutcome(before, after));
      expect(start?.version).toBe(readRelease(root, after.active).version);
      return after;
    } finally {
      launcher.kill('SIGTERM');
      await exited(launcher);
    }
  }

  it('a SIGKILL anywhere in stage, activate or the trial resolution leaves a release that starts', async () => {
    const random = prng(SEED);
    const root = await makeLayout(builds.release.good, '1.0.0');
    roots.push(root);
    // Big releases (about 2 MiB, each different) so that kills land inside the copy too.
    const files = [0, 1, 2].map((i) => {
      const file = join(builds.dir, `padded-${i}.mjs`);
      copyFileSync(builds.release.good, file);
      appendFileSync(file, `\n// ${String(i).repeat(2 << 20)}\n`);
      return file;
    });
    const stager = join(root, 'stager.mjs');
    copyFileSync(await buildStager(builds.dir), stager);
    const env = fixtureEnv(root, hub.url, deviceId, credential);
    const phases = new Map<string, number>();
    for (let kill = 0; kill < STAGER_KILLS; kill++) {
      const child = spawn(process.execPath, [stager, root, ...files], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let phase = 'loading';
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        phase = line.split(' ')[0] ?? phase;
      });
      await waitFor(() => phase !== 'loading', 20_000, 'the stager at work');
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 400)));
      child.kill('SIGKILL');
      await exited(child);
      phases.set(phase, (phases.get(phase) ?? 0) + 1);
      expectStartable(root);
      if (kill % 4 === 3) await settle(root, env);
    }
    console.log(`stager kills by phase: ${JSON.stringify(Object.fromEntries(phases))}`);
    if (STAGER_KILLS >= 12) {
      expect(phases.get('stage')).toBeGreaterThan(0);
      expect(phases.get('activate')).toBeGreaterThan(0);
    }
  });

  it('a SIGKILL of the launcher during a trial ends on a confirmed release with a consistent outcome', async () => {
    const random = prng(SEED + 1);
    const root = await makeLayout(builds.release.good, '1.0.0');
    roots.push(root);
    const env = fixtureEnv(root, hub.url, deviceId, credential);
    const log = join(root, 'fixture.log');
    const behaviours: Behaviour[] = ['good', 'never-ready', 'crash'];
    let version = 1;
    for (let kill = 0; kill < LAUNCHER_KILLS; kill++) {
      await settle(root, env);
      const before = readPointer(root) as Pointer;
      const from = readRelease(root, before.active).version;
      const behaviour = behaviours[kill % behaviours.length] as Behaviour;
      const target = `2.${version++}.0`;
      writeFileSync(
        join(root, 'upgrade.json'),
        JSON.stringify({ file: builds.release[behaviour], version: target }),
      );
      const launcher: ChildProcess = spawnLauncher(builds.launcher, root, env, FLAGS);
      const seen = readLog(log).length;
      const agent = await waitFor(() =>
        readLog(log)
          .slice(seen)
          .find((e) => e.event === 'confirmed'),
      );
      process.kill(agent.pid, 'SIGUSR2');
      await waitFor(() => readPointer(root)?.trial?.version === target, 10_000, 'the activation');
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 3_000)));
      launcher.kill('SIGKILL');
      await exited(launcher);
      // Its agent notices the launcher is gone and stops (under systemd the cgroup goes with it anyway).
      for (const e of readLog(log).filter((l) => l.event === 'start')) {
        await waitFor(() => !alive(e.pid), 10_000, `agent ${e.pid} gone`);
      }
      expectStartable(root);
      const after = await settle(root, env);
      if (behaviour === 'good') {
        // Confirmed, unless the kills used up its starts first (then it was rolled back, as designed).
        expect(readRelease(root, after.active).version).toBe(
          after.last?.kind === 'confirmed' ? target : from,
        );
      } else {
        expect(readRelease(root, after.active).version).toBe(from);
        expect(after.last).toMatchObject({ kind: 'rolled_back', version: target, fromVersion: from });
      }
      console.log(
        `launcher kill ${kill}: ${behaviour} ${target} → ${after.last?.kind} (${after.last?.reason ?? ''})`,
      );
    }
    expect(readFileSync(log, 'utf8').length).toBeGreaterThan(0);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
