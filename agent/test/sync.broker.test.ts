import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, RecordEnvelope } from '@crema/protocol';
import { waitFor } from '@crema/protocol/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandExecutor } from '../src/commands/executor';
import { createCommandHandlers } from '../src/commands/handlers';
import { silentLogger } from '../src/log/logger';
import { defaultRecipeSet } from '../src/orders/default-recipe-set';
import { SALES_LOCK_KEY } from '../src/orders/order-service';
import { Store } from '../src/store/store';
import { Sync } from '../src/sync/sync';
import type { SyncTuning } from '../src/sync/types';
import { systemClock } from '../src/time/clock';
import { HttpHubDouble } from './helpers/http-hub';
import { HubDouble } from './helpers/hub-double';
import { sampleBodies } from './helpers/outbox-contract';

const FAST: Partial<SyncTuning> = {
  heartbeatIntervalS: 1,
  keepaliveS: 5,
  connectTimeoutMs: 2_000,
  reconnect: { initialMs: 100, maxMs: 400 },
  retry: { initialMs: 100, maxMs: 400 },
  ackTimeoutMs: 2_000,
  pollMs: 20,
  httpPollMs: 100,
  window: 1_000,
};

/** The hub holds exactly the records the agent produced: same ids, seq 1..n contiguous, none twice. */
function expectExactly(stored: RecordEnvelope[], produced: RecordEnvelope[]): void {
  expect(stored.map((r) => r.seq)).toEqual(produced.map((_, i) => i + 1));
  expect(stored.map((r) => r.id)).toEqual(produced.map((r) => r.id));
  expect(new Set(stored.map((r) => r.id)).size).toBe(stored.length);
}

describe('Sync against a real MQTT broker (aedes on a socket) and a hub that acks after its commit', {
  timeout: 60_000,
}, () => {
  let dir: string;
  let hub: HubDouble;
  let store: Store;
  let sync: Sync | undefined;
  const deviceId = 'dev-sync-1';
  const credential = randomBytes(18).toString('base64url');
  const commands: Command[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-sync-'));
    hub = new HubDouble(join(dir, 'hub.sqlite'));
    hub.credentials.set(deviceId, credential);
    await hub.start(0);
    store = Store.open({
      dataDir: join(dir, 'agent'),
      deviceId,
      outboxMaxBytes: 1 << 28,
      clock: systemClock,
      defaults: defaultRecipeSet('EUR'),
    });
    commands.length = 0;
  });

  afterEach(async () => {
    await sync?.stop();
    sync = undefined;
    await hub.stop();
    hub.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function makeSync(
    options: {
      httpUrl?: string;
      mqttUrl?: string;
      tuning?: Partial<SyncTuning>;
      onCommand?: (command: Command) => void;
    } = {},
  ): Sync {
    sync = new Sync({
      deviceId,
      credential,
      mqttUrl: options.mqttUrl ?? hub.url,
      httpUrl: options.httpUrl,
      outbox: store.outbox,
      clock: systemClock,
      logger: silentLogger,
      identity: () => ({
        model: 'crema-one',
        firmwareVersion: '1.0.0',
        agentVersion: '0.1.0',
        capabilities: ['http_fallback'],
        recipeSetVersion: store.catalog.recipes().version,
        priceListVersion: 0,
        configVersion: 0,
      }),
      status: () => ({ state: 'idle', salesLocked: false }),
      onCommand: options.onCommand ?? ((command) => commands.push(command)),
      tuning: { ...FAST, ...options.tuning },
    });
    return sync;
  }

  /** Records buffered while offline (one transaction: the test is about sync, not about fsync). */
  function produce(n: number, every = 10): RecordEnvelope[] {
    const out: RecordEnvelope[] = [];
    store.db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const r =
          i % every === 0
            ? store.outbox.append('order', sampleBodies.order(i))
            : store.outbox.append('telemetry', sampleBodies.telemetry(i));
        if (r) out.push(r);
      }
    })();
    return out;
  }

  it('connects with its credential, publishes a retained birth, and drains the outbox exactly once', async () => {
    const produced = produce(3_000);
    const s = makeSync();
    s.start();
    await waitFor(() => store.outbox.stats().depth === 0, 30_000, 'outbox drained');
    expect(s.state).toBe('mqtt');
    expectExactly(hub.stored(deviceId), produced);
    const birth = await hub.retainedStatus(deviceId);
    expect(birth).toMatchObject({ type: 'birth', body: { lastSeq: 3_000, bootId: s.id } });
  });

  it('deletes nothing before the hub acknowledges, survives a broker kill and a hub restart mid-stream', async () => {
    const produced = produce(2_000);
    hub.ackingPaused = true;
    const s = makeSync({ tuning: { batchMode: 'single', window: 300, chunk: 50 } });
    s.start();
    await waitFor(() => hub.deliveries.size >= 300, 15_000, 'first window delivered');
    // Delivered, but not acknowledged: every record is still in the outbox.
    expect(store.outbox.stats().depth).toBe(2_000);
    await hub.stopBroker();
    await waitFor(() => s.state === 'offline', 10_000, 'offline');
    expect(store.outbox.stats().depth).toBe(2_000);
    // The hub process restarts too: whatever it had queued but not committed is gone (never acknowledged).
    await hub.stopHub();
    hub.ackingPaused = false;
    await hub.startBroker();
    await hub.startHub();
    await waitFor(() => s.state === 'mqtt', 10_000, 'reconnected');
    // Stop the hub again in the middle of the drain, then bring it back.
    await waitFor(() => hub.count(deviceId) > 200, 15_000, 'some stored');
    await hub.stopHub();
    await new Promise((r) => setTimeout(r, 300));
    await hub.startHub();
    await waitFor(() => store.outbox.stats().depth === 0, 30_000, 'outbox drained');
    expectExactly(hub.stored(deviceId), produced);
    expect(s.stats.resent).toBeGreaterThan(0);
  });

  it('a live order produced during a drain is delivered ahead of the backlog', async () => {
    produce(5_000, 1_000_000);
    const s = makeSync({ tuning: { ratePerS: 2_000, window: 200, chunk: 100 } });
    s.start();
    await waitFor(() => hub.count(deviceId) >= 400, 15_000, 'drain under way');
    const order = store.outbox.append('order', sampleBodies.order(99_999));
    s.kick();
    await waitFor(() => hub.stored(deviceId).some((r) => r.id === order?.id), 5_000, 'order stored');
    // Most of the telemetry backlog is still waiting when the order is already at the hub.
    expect(store.outbox.stats().depth).toBeGreaterThan(2_000);
  });

  it('publishes its last will (death, lost) when the link dies, and a new birth after reconnecting', async () => {
    const s = makeSync();
    s.start();
    await waitFor(() => s.state === 'mqtt', 10_000, 'connected');
    hub.dropDevice(deviceId);
    await waitFor(() => hub.messages.some((m) => m.type === 'death'), 5_000, 'will published');
    expect(hub.messages.find((m) => m.type === 'death')).toMatchObject({
      body: { reason: 'lost', bootId: s.id },
    });
    await waitFor(() => hub.messages.filter((m) => m.type === 'birth').length >= 2, 5_000, 'second birth');
    await waitFor(() => hub.messages.some((m) => m.type === 'heartbeat'), 5_000, 'heartbeat');
  });

  it('is refused with a wrong credential and keeps every record', async () => {
    hub.credentials.set(deviceId, 'another-secret-entirely');
    const produced = produce(10);
    const s = makeSync();
    s.start();
    // Not a fixed sleep: the broker has turned the agent away twice, so it did try, and retried.
    await waitFor(
      () => hub.refused.filter((id) => id === deviceId).length >= 2,
      10_000,
      'two refused attempts',
    );
    expect(s.state).toBe('offline');
    expect(hub.count(deviceId)).toBe(0);
    expect(store.outbox.peek(100).map((r) => r.id)).toEqual(produced.map((r) => r.id));
  });

  it('receives a command, executes it once, and the result reaches the hub as an acknowledged record', async () => {
    const handlers = createCommandHandlers({ store });
    let runs = 0;
    const lockHandler = handlers.lock;
    if (!lockHandler) throw new Error('no lock handler');
    handlers.lock = {
      ...lockHandler,
      run: (command, ctx) => {
        runs += 1;
        return lockHandler.run(command, ctx);
      },
    };
    const executor = new CommandExecutor({
      store,
      clock: systemClock,
      logger: silentLogger,
      handlers,
      busy: () => false,
      progress: (p) => sync?.publishProgress(p),
      onResult: () => sync?.kick(),
    });
    const received: Promise<unknown>[] = [];
    const s = makeSync({ onCommand: (c) => received.push(executor.receive(c)) });
    s.start();
    await waitFor(() => s.state === 'mqtt', 10_000, 'connected');
    const now = Date.now();
    const lock: Command = {
      commandId: 'cmd_lock_1',
      idempotencyKey: 'idem_lock_1',
      issuedAt: now,
      expiresAt: now + 60_000,
      kind: 'lock',
      params: { reason: 'cleaning' },
    };
    for (let i = 0; i < 3; i++) await hub.publishCommand(deviceId, lock);
    await waitFor(() => received.length === 3, 5_000, 'three deliveries');
    await Promise.all(received);
    await waitFor(() => store.outbox.stats().depth === 0, 10_000, 'results acknowledged');
    expect(runs).toBe(1);
    expect(store.settings.get(SALES_LOCK_KEY)).toBe(true);
    const results = hub.stored(deviceId).filter((r) => r.type === 'command_result');
    // One result per execution, plus one re-report per repeat that arrived after it finished (0 to 2 here).
    expect(results.length).toBeGreaterThanOrEqual(1);
    expect(results.length).toBeLessThanOrEqual(3);
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(results[0]?.body).toMatchObject({ commandId: 'cmd_lock_1', status: 'succeeded' });
    expect(hub.messages.some((m) => m.type === 'command_progress')).toBe(true);
  });

  it('falls back to HTTP when MQTT is unreachable, then returns to MQTT', async () => {
    const http = new HttpHubDouble(hub);
    await http.start();
    try {
      const now = Date.now();
      http.commands.set(deviceId, [
        {
          commandId: 'cmd_http_1',
          idempotencyKey: 'idem_http_1',
          issuedAt: now,
          expiresAt: now + 60_000,
          kind: 'diagnostics',
          params: {},
        },
      ]);
      const mqttUrl = hub.url;
      await hub.stopBroker();
      const produced = produce(1_200);
      const s = makeSync({ httpUrl: http.url, mqttUrl, tuning: { httpFallbackAfterMs: 300 } });
      s.start();
      await waitFor(() => s.state === 'http', 10_000, 'http mode');
      await waitFor(() => store.outbox.stats().depth === 0, 15_000, 'drained over http');
      expectExactly(hub.stored(deviceId), produced);
      expect(commands.map((c) => c.commandId)).toContain('cmd_http_1');
      await waitFor(() => http.messages.some((m) => m.type === 'birth'), 5_000, 'birth over http');
      await hub.startBroker();
      await waitFor(() => s.state === 'mqtt', 10_000, 'back on mqtt');
      const more = produce(5);
      s.kick();
      await waitFor(() => store.outbox.stats().depth === 0, 10_000, 'drained over mqtt');
      expectExactly(hub.stored(deviceId), [...produced, ...more]);
    } finally {
      await http.stop();
    }
  });
});
