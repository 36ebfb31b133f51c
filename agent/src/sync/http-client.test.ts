import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../time/fake-clock';
import { DeviceHttpClient } from './http-client';

describe('DeviceHttpClient', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it("reports the hub's clock from the Date header of each answer (real HTTP)", async () => {
    const hubTime = Date.UTC(2026, 0, 1, 12, 0, 0);
    server = createServer((_req, res) => {
      res.setHeader('date', new Date(hubTime).toUTCString());
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ commands: [] }));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const seen: number[] = [];
    const client = new DeviceHttpClient({
      baseUrl: `http://127.0.0.1:${port}`,
      deviceId: 'dev-1',
      credential: 'secret-for-test',
      clock: new FakeClock(hubTime + 3 * 3_600_000),
      ulid: () => '01J00000000000000000000000',
      timeoutMs: 5_000,
      onHubTime: (ts) => seen.push(ts),
    });
    await expect(client.pollCommands()).resolves.toEqual([]);
    expect(seen).toEqual([hubTime]);
  });
});
