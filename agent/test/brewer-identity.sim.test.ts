import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Simulator, startSimulator } from '@crema/firmware-sim';
import { afterEach, describe, expect, it } from 'vitest';
import { SerialBrewer } from '../src/drivers/brewer/serial-brewer';
import { asIdentity } from '../src/drivers/line/identity';
import { SerialTransport } from '../src/drivers/transport/serial';
import { silentLogger } from '../src/log/logger';
import { systemClock } from '../src/time/clock';
import { waitFor } from './helpers/sim';

/** A simulated machine whose brewer pty is `dir/brewer`; the seed makes its serial number. */
function machine(dir: string, seed: number): Promise<Simulator> {
  return startSimulator({ timeScale: 10, initialTempC: 93, controlPort: false, seed, ptyDir: dir });
}

describe('brewer identity over a real pty', () => {
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('refuses another brewer that appears on the same path, and takes its own back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crema-identity-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    let sim = await machine(dir, 11);
    cleanup.push(() => sim.stop());
    const brewer = new SerialBrewer({
      transport: new SerialTransport(join(dir, 'brewer')),
      clock: systemClock,
      logger: silentLogger,
      requestTimeoutMs: 1000,
      backoff: { initialMs: 100, maxMs: 500 },
      watchdog: { idleMs: 500, deadMs: 1500 },
    });
    cleanup.push(() => brewer.stop());
    await brewer.start();
    expect(brewer.connected).toBe(true);
    const own = brewer.identity;
    expect(own).toMatchObject({ model: 'cm-1', serial: expect.stringMatching(/^SIM-CM-1-/) });

    // Unplugged; another machine is wired to the same device path.
    await sim.stop();
    await waitFor(() => !brewer.connected, 10_000, 'link down');
    sim = await machine(dir, 12);
    await waitFor(() => brewer.stats.refusedDevices >= 2, 15_000, 'the stranger refused twice');
    expect(brewer.connected).toBe(false);
    expect(brewer.refusal?.expected).toEqual(own);
    expect(brewer.refusal?.found.serial).not.toBe(own?.serial);
    await expect(brewer.request('STATUS')).rejects.toMatchObject({ code: 'BREWER_DISCONNECTED' });
    // Nothing but INFO reached the stranger: its machine never moved.
    expect(sim.dispenses()).toEqual([]);

    // The machine's own brewer is plugged back in.
    await sim.stop();
    sim = await machine(dir, 11);
    await waitFor(() => brewer.connected, 15_000, 'own brewer back');
    expect(brewer.identity).toEqual(own);
    expect(brewer.refusal).toBeUndefined();
    await expect(brewer.status()).resolves.toMatchObject({ state: 'idle' });
  }, 60_000);

  it('reconnects by itself after the simulator restarts a dead pty bridge', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crema-identity-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const sim = await machine(dir, 21);
    cleanup.push(() => sim.stop());
    const brewer = new SerialBrewer({
      transport: new SerialTransport(join(dir, 'brewer')),
      clock: systemClock,
      logger: silentLogger,
      requestTimeoutMs: 1000,
      backoff: { initialMs: 100, maxMs: 500 },
      watchdog: { idleMs: 500, deadMs: 1500 },
    });
    cleanup.push(() => brewer.stop());
    await brewer.start();
    const pid = sim.ptyBridgePid('brewer');
    expect(pid).toBeGreaterThan(0);
    process.kill(pid as number, 'SIGKILL');
    await waitFor(() => !brewer.connected, 10_000, 'link down');
    await waitFor(() => brewer.connected, 15_000, 'link back after the bridge restart');
    expect(sim.ptyBridgePid('brewer')).not.toBe(pid);
    await expect(brewer.status()).resolves.toMatchObject({ state: 'idle' });
  }, 60_000);

  it('remembers its brewer across an agent restart and refuses one swapped in meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crema-identity-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    let kept: unknown;
    const memory = { load: () => asIdentity(kept), save: (id: unknown) => (kept = id) };
    const brewerFor = () =>
      new SerialBrewer({
        transport: new SerialTransport(join(dir, 'brewer')),
        clock: systemClock,
        logger: silentLogger,
        requestTimeoutMs: 1000,
        backoff: { initialMs: 100, maxMs: 500 },
        watchdog: false,
        memory,
      });
    let sim = await machine(dir, 31);
    cleanup.push(() => sim.stop());
    const first = brewerFor();
    await first.start();
    expect(first.connected).toBe(true);
    expect(kept).toEqual(first.identity);
    await first.stop();

    // While the agent is down, another brewer is wired in.
    await sim.stop();
    sim = await machine(dir, 32);
    const second = brewerFor();
    cleanup.push(() => second.stop());
    await second.start();
    expect(second.connected).toBe(false);
    expect(second.refusal?.expected).toEqual(kept);
  }, 60_000);
});
