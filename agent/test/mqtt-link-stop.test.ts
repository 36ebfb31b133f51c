import { createServer, type Server, type Socket } from 'node:net';
import { systemClock } from '@crema/protocol';
import { Aedes } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log/logger';
import { MqttLink } from '../src/sync/mqtt-link';

/**
 * A broker that takes the connection but never acknowledges a publish, as one going away mid-stop does:
 * the agent's stop must still finish (its CLI exits on it; a hung stop leaves the process running).
 */
describe('MqttLink stop against a broker that never acknowledges', () => {
  let server: Server | undefined;
  let broker: Aedes | undefined;
  const sockets = new Set<Socket>();

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => (broker ? broker.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('gives up on the goodbye and the clean disconnect after its deadline', async () => {
    broker = await Aedes.createBroker({
      // Holds every publish: no PUBACK ever comes back.
      authorizePublish: () => undefined,
    });
    const aedes = broker;
    server = createServer((socket) => {
      sockets.add(socket);
      aedes.handle(socket);
    });
    const port = await new Promise<number>((resolve) =>
      server?.listen(0, '127.0.0.1', () => {
        const a = server?.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      }),
    );
    let up!: () => void;
    const connected = new Promise<void>((resolve) => {
      up = resolve;
    });
    const link = new MqttLink({
      url: `mqtt://127.0.0.1:${port}`,
      deviceId: 'cm-stop',
      credential: 'secret',
      clock: systemClock,
      logger: silentLogger,
      keepaliveS: 30,
      connectTimeoutMs: 2_000,
      reconnect: { initialMs: 100, maxMs: 1_000 },
      will: () => 'gone',
      onUp: () => up(),
      onDown: () => undefined,
      onMessage: () => undefined,
    });
    link.start();
    await connected;

    const started = Date.now();
    await link.stop({ topic: 'crema/v1/cm-stop/state', payload: 'bye' });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(8_000);
  });
});
