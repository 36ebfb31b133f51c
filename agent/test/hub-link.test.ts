import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Simulator } from '@crema/firmware-sim';
import { startSimulator } from '@crema/firmware-sim';
import type { Command, CommandResult } from '@crema/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../src/app';
import { parseConfig } from '../src/config/load';
import { silentLogger } from '../src/log/logger';
import { AGENT_VERSION } from '../src/sync/identity';
import { HubDouble } from './helpers/hub-double';
import { hostPort, waitFor } from './helpers/sim';

const deviceId = 'dev-link-1';
const credential = randomBytes(18).toString('base64url');

function command(id: string, kind: Command['kind'], params: Record<string, unknown>): Command {
  const now = Date.now();
  return {
    commandId: id,
    idempotencyKey: id,
    issuedAt: now,
    expiresAt: now + 60_000,
    kind,
    params,
  } as Command;
}

/** The real agent with a `hub` section: firmware-sim over TCP underneath, an aedes broker and acking hub above. */
describe('Agent with a hub section links itself to the hub', { timeout: 60_000 }, () => {
  let dir: string;
  let hub: HubDouble;
  let sim: Simulator;
  let agent: Agent;
  let restarts: number;
  const results: Promise<CommandResult>[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-hub-link-'));
    hub = new HubDouble(join(dir, 'hub.sqlite'));
    hub.credentials.set(deviceId, credential);
    await hub.start(0);
    sim = await startSimulator({ pty: false, timeScale: 20, initialTempC: 93, controlPort: false, seed: 3 });
    const e = sim.endpoints;
    const config = parseConfig({
      deviceId,
      model: 'crema-two',
      dataDir: join(dir, 'agent'),
      drivers: {
        brewer: { transport: 'tcp', ...hostPort(e.serial.tcp) },
        payment: { transport: 'tcp', ...hostPort(e.payment.tcp) },
        modbus: { transport: 'tcp', ...hostPort(e.modbus.tcp) },
      },
      api: { port: 0 },
      hub: {
        mqttUrl: hub.url,
        // Never used here: MQTT stays up, and the fallback waits longer than the test.
        httpUrl: 'http://127.0.0.1:9',
        credential,
        sync: { heartbeatIntervalS: 1, pollMs: 20, reconnect: { initialMs: 100, maxMs: 400 } },
      },
    });
    restarts = 0;
    results.length = 0;
    agent = new Agent({
      config,
      logger: silentLogger,
      onRestart: () => {
        restarts += 1;
      },
      hubHooks: { onCommand: (_c, result) => results.push(result), idleCheckMs: 20 },
    });
  });

  afterEach(async () => {
    await agent.stop();
    await sim.stop();
    await hub.stop();
    hub.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says who it is, sends a sale at once, runs a lock once, and restarts through its callback', async () => {
    await agent.start();
    await waitFor(() => agent.hubLink?.sync?.state === 'mqtt', 15_000, 'online');
    await waitFor(() => hub.messages.some((m) => m.type === 'birth'), 5_000, 'birth');
    const birth = hub.messages.find((m) => m.type === 'birth');
    expect(birth?.body).toMatchObject({
      model: 'crema-two',
      agentVersion: AGENT_VERSION,
      // firmware-sim's default model answers INFO with fw=1.4.2.
      firmwareVersion: '1.4.2',
      recipeSetVersion: 0,
      priceListVersion: 0,
      configVersion: 0,
      capabilities: expect.arrayContaining(['card_payment', 'http_fallback']),
    });

    const created = await fetch(`${agent.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ recipeId: 'espresso', size: 'S' }),
    });
    expect(created.status).toBe(202);
    await agent.orders?.idle();
    await waitFor(
      () => hub.stored(deviceId).some((r) => r.type === 'order' && r.body.event === 'completed'),
      10_000,
      'completed order at the hub',
    );

    const lock = command('cmd_lock_a', 'lock', { reason: 'cleaning' });
    await hub.publishCommand(deviceId, lock);
    await hub.publishCommand(deviceId, lock);
    await waitFor(() => results.length === 2, 5_000, 'two deliveries');
    const [first, second] = await Promise.all(results);
    expect(first).toMatchObject({ commandId: 'cmd_lock_a', status: 'succeeded' });
    expect(second).toEqual(first);
    const menu = (await (await fetch(`${agent.url}/menu`)).json()) as {
      items: { available: boolean; sizes: { reason?: string }[] }[];
    };
    expect(menu.items.every((i) => !i.available && i.sizes.every((s) => s.reason === 'SALES_LOCKED'))).toBe(
      true,
    );
    await waitFor(
      () => hub.stored(deviceId).some((r) => r.type === 'command_result'),
      5_000,
      'lock result at the hub',
    );

    await hub.publishCommand(deviceId, command('cmd_restart_a', 'restart', { target: 'agent' }));
    await waitFor(() => restarts === 1, 10_000, 'restart callback');
    expect(await results[2]).toMatchObject({ status: 'succeeded', output: { target: 'agent' } });
  });

  it('stops its link before the store: a clean goodbye, and no link after stop', async () => {
    await agent.start();
    await waitFor(() => agent.hubLink?.sync?.state === 'mqtt', 15_000, 'online');
    await agent.stop();
    expect(agent.hubLink).toBeUndefined();
    await waitFor(
      () => hub.messages.some((m) => m.type === 'death' && m.body.reason === 'shutdown'),
      5_000,
      'goodbye',
    );
  });
});
