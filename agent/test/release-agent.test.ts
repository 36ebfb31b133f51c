import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type Simulator, startSimulator } from '@crema/firmware-sim';
import { waitFor } from '@crema/protocol/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAgentCli, buildLauncherCli } from '../build';
import { FileReleaseSlots } from '../src/updates/slots/file-slots';
import { readPointer } from '../src/updates/slots/pointer';
import { HubDouble } from './helpers/hub-double';
import { newCredential } from './helpers/releases';
import { exited, repoRoot, simConfig, writeConfig } from './support';

/**
 * The real agent, compiled as a release (agent/build.ts), installed with `crema-agent-launcher install` and run
 * by the launcher CLI against a simulated machine and a real MQTT broker: an update the agent confirms once
 * it is connected stays; an update that cannot reach the hub is rolled back at the deadline and the previous
 * release runs again.
 */
describe('the real agent under crema-agent-launcher', { timeout: 150_000 }, () => {
  let dir: string;
  let root: string;
  let sim: Simulator;
  let hub: HubDouble;
  let launcher: ChildProcess;
  const readyLines: { api: string }[] = [];
  const deviceId = 'slots-agent-1';
  const credential = newCredential();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-release-agent-'));
    root = join(dir, 'releases');
    const release = join(dir, 'agent.mjs');
    const launcherFile = join(dir, 'launcher.mjs');
    await buildAgentCli(release);
    await buildLauncherCli(launcherFile);
    hub = new HubDouble(join(dir, 'hub.sqlite'));
    hub.credentials.set(deviceId, credential);
    await hub.start(0);
    sim = await startSimulator({ pty: true, timeScale: 60, initialTempC: 92, seed: 7 });
    const config = writeConfig(
      dir,
      simConfig(sim.endpoints, join(dir, 'data'), {
        deviceId,
        hub: {
          mqttUrl: hub.url,
          // Never reached: the hub is the broker here, and the fallback waits longer than the test.
          httpUrl: 'http://127.0.0.1:9',
          credential,
          sync: { heartbeatIntervalS: 1, reconnect: { initialMs: 100, maxMs: 400 } },
        },
      }),
    );
    // As on a board: the launcher beside the runtime packages (/opt/crema-agent), `install` puts the first
    // release in slot a of the releases directory and links the same packages there.
    const modules = join(repoRoot, 'agent', 'node_modules');
    symlinkSync(modules, join(dir, 'node_modules'), 'dir');
    execFileSync(process.execPath, [
      launcherFile,
      'install',
      '--root',
      root,
      '--release',
      release,
      '--version',
      '1.0.0',
      '--node-modules',
      modules,
    ]);
    launcher = spawn(
      process.execPath,
      [launcherFile, '--root', root, '--trial-deadline-s', '20', '--', '--config', config],
      { env: { ...process.env, CREMA_LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    createInterface({ input: launcher.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as { event?: string; api?: string };
      if (parsed.event === 'ready' && parsed.api) readyLines.push({ api: parsed.api });
    });
    await waitFor(() => readyLines.length === 1, 30_000, 'the first agent ready');
  }, 90_000);

  afterAll(async () => {
    launcher?.kill('SIGTERM');
    if (launcher) await exited(launcher);
    await sim?.stop();
    await hub?.stop();
    hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** What the upgrade_agent handler does in the running agent: stage, activate, then the process exits. */
  async function update(version: string): Promise<void> {
    const slots = FileReleaseSlots.open({ root });
    await slots.stage(join(dir, 'agent.mjs'), version);
    await slots.activate(version);
    const agentPid = Number(
      execFileSync('pgrep', ['-P', String(launcher.pid)])
        .toString()
        .trim(),
    );
    process.kill(agentPid, 'SIGTERM');
  }

  it('confirms a release that starts and connects, and rolls back one that cannot reach the hub', async () => {
    await update('1.1.0');
    await waitFor(() => readPointer(root)?.last?.kind === 'confirmed', 60_000, 'the trial confirmed');
    expect(readPointer(root)).toEqual({
      v: 1,
      active: 'b',
      last: expect.objectContaining({ kind: 'confirmed', version: '1.1.0', fromVersion: '1.0.0' }),
    });
    expect(readyLines.length).toBe(2);
    // The hub sees the release that runs: `birth` carries the slot's version.
    await waitFor(
      () =>
        hub.messages.some(
          (m) => m.type === 'birth' && (m.body as { agentVersion?: string }).agentVersion === '1.1.0',
        ),
      30_000,
      'birth of 1.1.0',
    );

    // The hub's broker goes away: the next release starts and takes orders but never reaches the hub.
    await hub.stopBroker();
    await update('1.2.0');
    await waitFor(() => readPointer(root)?.trial?.version === '1.2.0', 10_000, 'the trial start');
    const pointer = await waitFor(
      () => (readPointer(root)?.last?.kind === 'rolled_back' ? readPointer(root) : undefined),
      30_000,
      'the rollback',
    );
    expect(pointer).toMatchObject({
      active: 'b',
      last: {
        kind: 'rolled_back',
        version: '1.2.0',
        fromVersion: '1.1.0',
        reason: 'not ready and connected to the hub within 20 s',
      },
    });
    // The previous release runs again (its ready line), and stays once the hub is back.
    await waitFor(() => readyLines.length === 4, 30_000, 'the previous release ready again');
    await hub.startBroker();
    // The hub's own client subscribes afresh on the new broker.
    await hub.stopHub();
    await hub.startHub();
    const mark = hub.messages.length;
    await waitFor(
      () => hub.messages.slice(mark).some((m) => m.deviceId === deviceId),
      30_000,
      'the agent on the hub',
    );
    expect(readPointer(root)?.active).toBe('b');
    expect(FileReleaseSlots.open({ root }).outcome()).toEqual({
      kind: 'rolled_back',
      version: '1.2.0',
      fromVersion: '1.1.0',
      reason: 'not ready and connected to the hub within 20 s',
    });
  });
});
