import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type Simulator, startSimulator } from '@crema/firmware-sim';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestHub } from './support/hub';
import { waitFor } from './support/ledger';

const repoRoot = join(import.meta.dirname, '..', '..');
const HOUR = 3_600_000;
const hostPort = (endpoint: string) => {
  const i = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) };
};

const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The agent CLI in its own process whose clock `faketime` sets `shift` away from the hub's (e.g. `+3h`). */
function spawnSkewedAgent(configFile: string, shift: string): Promise<ChildProcess> {
  const child = spawn(
    'faketime',
    [
      '-f',
      shift,
      process.execPath,
      '--import',
      'tsx',
      join(repoRoot, 'agent/src/cli.ts'),
      '--',
      '--config',
      configFile,
    ],
    // Its own process group: the faketime wrapper does not pass signals on to the agent it runs.
    {
      cwd: repoRoot,
      env: { ...process.env, CREMA_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`agent exited (${code}): ${stderr.join('').slice(-1500)}`)),
    );
    createInterface({ input: child.stdout! }).once('line', (line) => {
      if (line.includes('"ready"')) resolve(child);
      else reject(new Error(`unexpected first line: ${line}`));
    });
  });
}

/**
 * A machine whose clock is hours off, as a real process (`faketime`) talking to a real hub over its broker:
 * commands with a one-minute time-to-live still run once, the hub measures the offset and raises clock_skew.
 */
describe.each(['+3h', '-3h'])('a machine with its clock %s against the hub', (shift) => {
  let dir: string;
  let hub: TestHub;
  let sim: Simulator;
  let agent: ChildProcess | undefined;
  const deviceId = `cm-skew-${shift === '+3h' ? 'ahead' : 'behind'}`;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-skew-'));
    hub = new TestHub(join(dir, 'hub'));
    await hub.start();
    sim = await startSimulator({ pty: false, timeScale: 20, initialTempC: 93, controlPort: false, seed: 5 });
  });

  afterEach(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent?.once('exit', r));
      const group = agent.pid;
      if (group !== undefined) process.kill(-group, 'SIGTERM');
      await exited;
      // The wrapper is gone at once; the agent itself finishes its stop: wait until the whole group is.
      if (group !== undefined) await waitFor(() => !groupAlive(group), 20_000, 'the skewed agent to stop');
    }
    await sim?.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a command with a 60 s TTL once, and the hub shows and alarms on the skew', async () => {
    const merchant = await hub.createMerchant('Skewed Coffee');
    const credential = await hub.registerDevice(deviceId, merchant);
    const e = sim.endpoints;
    const configFile = join(dir, 'agent.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        deviceId,
        model: 'cm-1',
        dataDir: join(dir, 'agent'),
        drivers: {
          brewer: { transport: 'tcp', ...hostPort(e.serial.tcp) },
          payment: { transport: 'tcp', ...hostPort(e.payment.tcp) },
          modbus: { transport: 'tcp', ...hostPort(e.modbus.tcp) },
        },
        api: { port: 0 },
        hub: {
          mqttUrl: hub.mqttUrl,
          httpUrl: hub.httpUrl,
          credential,
          sync: { heartbeatIntervalS: 1, reconnect: { initialMs: 200, maxMs: 1000 } },
        },
      }),
    );
    agent = await spawnSkewedAgent(configFile, shift);
    const state = () =>
      hub.call<{ state: { online: boolean; clock: { offsetMs: number } | null } | null }>(
        'GET',
        `/api/v1/devices/${deviceId}/state`,
      );
    await waitFor(async () => (await state()).state?.online === true, 20_000, 'machine online');

    const lock = await hub.command(deviceId, 'lock', { reason: 'skew test' }, 60_000);
    await waitFor(
      async () => ['succeeded', 'failed', 'expired'].includes((await hub.getCommand(lock.id)).status),
      20_000,
      'lock finished',
    );
    expect((await hub.getCommand(lock.id)).status).toBe('succeeded');

    // Hub receive time − device ts: −3 h for a clock ahead, +3 h for one behind (transit adds milliseconds).
    const offset = (await state()).state?.clock?.offsetMs ?? Number.NaN;
    const expected = shift === '+3h' ? -3 * HOUR : 3 * HOUR;
    expect(Math.abs(offset - expected)).toBeLessThan(10_000);
    const alarms = await hub.db
      .selectFrom('active_alarms')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('code', '=', 'clock_skew')
      .execute();
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.message).toContain(shift === '+3h' ? 'ahead of the hub' : 'behind the hub');
  }, 60_000);
});
