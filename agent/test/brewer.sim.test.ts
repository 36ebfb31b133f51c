import type { Simulator } from '@crema/firmware-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerialBrewer } from '../src/drivers/brewer/serial-brewer';
import type { BrewerEvent, Transport } from '../src/drivers/brewer/types';
import { SerialTransport } from '../src/drivers/transport/serial';
import { TcpTransport } from '../src/drivers/transport/tcp';
import { silentLogger } from '../src/log/logger';
import { systemClock } from '../src/time/clock';
import { fastSimulator, hostPort, waitFor } from './helpers/sim';

let sim: Simulator;
beforeAll(async () => {
  sim = await fastSimulator();
}, 30_000);
afterAll(() => sim?.stop());

function brewerOn(transport: Transport) {
  const brewer = new SerialBrewer({
    transport,
    clock: systemClock,
    logger: silentLogger,
    requestTimeoutMs: 2000,
    backoff: { initialMs: 100, maxMs: 1000 },
    watchdog: { idleMs: 1000, deadMs: 3000 },
  });
  const events: BrewerEvent[] = [];
  brewer.onEvent((e) => events.push(e));
  return { brewer, events };
}

const transports = {
  pty: () => new SerialTransport(sim.endpoints.serial.pty ?? ''),
  tcp: () => {
    const { host, port } = hostPort(sim.endpoints.serial.tcp);
    return new TcpTransport(host, port);
  },
};

describe.each(Object.keys(transports) as Array<keyof typeof transports>)('brewer over %s', (kind) => {
  it('answers INFO and STATUS, ignores corrupted replies, and survives the link being dropped', async () => {
    const { brewer, events } = brewerOn(transports[kind]());
    await brewer.start();
    try {
      expect(brewer.connected).toBe(true);
      await expect(brewer.request('INFO')).resolves.toMatchObject({ model: 'cm-1' });
      const status = await brewer.status();
      expect(status.state).toBe('idle');
      expect(status.water_ml).toBeGreaterThan(0);

      sim.faults.inject('serial_corrupt', { link: 'brewer' });
      await expect(brewer.request('PING', {}, { timeoutMs: 300 })).rejects.toMatchObject({
        code: 'BREWER_TIMEOUT',
      });
      expect(brewer.stats.badLines).toBeGreaterThan(0);
      sim.faults.clear('serial_corrupt');

      sim.faults.inject('brewer_link_down');
      await waitFor(() => !brewer.connected, 10_000, 'link down');
      await expect(brewer.request('STATUS')).rejects.toMatchObject({ code: 'BREWER_DISCONNECTED' });
      sim.faults.clear('brewer_link_down');
      await waitFor(() => brewer.connected, 15_000, 'link back up');
      await expect(brewer.status()).resolves.toMatchObject({ state: 'idle' });
      expect(events.filter((e) => e.type === 'link').map((e) => (e as { state: string }).state)).toEqual([
        'up',
        'down',
        'up',
      ]);
    } finally {
      await brewer.stop();
    }
  }, 40_000);
});
