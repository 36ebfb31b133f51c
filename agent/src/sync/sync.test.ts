import { type Command, createUlidGenerator, DEVICE_HTTP_PATHS, decodeEnvelope } from '@crema/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleBodies } from '../../test/helpers/outbox-contract';
import { silentLogger } from '../log/logger';
import { MemoryOutbox } from '../store/outbox/memory-outbox';
import { FakeClock } from '../time/fake-clock';
import { Sync } from './sync';

const T0 = 1_700_000_000_000;

/** The hub's device HTTP endpoints as a fetch function; `down` makes every request fail like a dead network. */
function fakeHub() {
  const state = {
    down: false,
    status: 200,
    requests: [] as { method: string; path: string; auth: string | null }[],
    stored: [] as string[],
    commands: [] as Command[],
  };
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    state.requests.push({
      method: init?.method ?? 'GET',
      path: url.pathname,
      auth: headers.get('authorization'),
    });
    if (state.down) throw new TypeError('fetch failed');
    if (state.status !== 200) {
      return new Response(JSON.stringify({ code: 'DEVICE_REVOKED' }), { status: state.status });
    }
    if (url.pathname === DEVICE_HTTP_PATHS.commands) return Response.json({ commands: state.commands });
    const env = decodeEnvelope(String(init?.body));
    if (!env.ok) return new Response(null, { status: 400 });
    if (url.pathname === DEVICE_HTTP_PATHS.records && env.value.type === 'batch') {
      const ids = (env.value.body.records as { id: string }[]).map((r) => r.id);
      state.stored.push(...ids);
      return Response.json({ ids, rejected: [] });
    }
    return new Response(null, { status: 202 });
  }) as typeof fetch;
  return { state, fetchFn };
}

describe('Sync HTTP fallback (virtual time)', () => {
  let sync: Sync | undefined;
  afterEach(async () => {
    await sync?.stop();
  });

  function setup() {
    const clock = new FakeClock(T0);
    const outbox = new MemoryOutbox({
      deviceId: 'dev-001',
      maxBytes: 1 << 24,
      now: () => clock.now(),
      ulid: createUlidGenerator(() => clock.now()),
    });
    const hub = fakeHub();
    const received: Command[] = [];
    const states: string[] = [];
    sync = new Sync({
      deviceId: 'dev-001',
      credential: 'secret-credential-0001',
      // Nothing listens there: MQTT never comes up.
      mqttUrl: 'mqtt://127.0.0.1:1',
      httpUrl: 'http://hub.test',
      outbox,
      clock,
      logger: silentLogger,
      identity: () => ({
        model: 'crema-one',
        firmwareVersion: '1.0.0',
        agentVersion: '0.1.0',
        capabilities: [],
        recipeSetVersion: 0,
        priceListVersion: 0,
        configVersion: 0,
      }),
      status: () => ({ state: 'idle', salesLocked: false }),
      onCommand: (c) => received.push(c),
      fetch: hub.fetchFn,
      random: () => 1,
      tuning: {
        httpFallbackAfterMs: 5_000,
        httpPollMs: 1_000,
        retry: { initialMs: 1_000, maxMs: 4_000 },
        reconnect: { initialMs: 60_000, maxMs: 60_000 },
      },
    });
    sync.onStateChange((s) => states.push(s));
    return { clock, outbox, hub, received, states, sync };
  }

  it('waits for MQTT first, then pushes records and polls commands over HTTP with Basic auth', async () => {
    const t = setup();
    for (let i = 0; i < 3; i++) t.outbox.append('order', sampleBodies.order(i));
    t.hub.state.commands = [
      {
        commandId: 'c1',
        idempotencyKey: 'k1',
        issuedAt: T0,
        expiresAt: T0 + 60_000,
        kind: 'unlock',
        params: {},
      },
    ];
    t.sync.start();
    await t.clock.advance(4_000);
    expect(t.hub.state.requests).toHaveLength(0);
    expect(t.sync.state).toBe('offline');
    await t.clock.advance(1_100);
    expect(t.sync.state).toBe('http');
    expect(t.outbox.stats().depth).toBe(0);
    expect(t.hub.state.stored).toHaveLength(3);
    expect(t.received.map((c) => c.commandId)).toEqual(['c1']);
    const basic = `Basic ${Buffer.from('dev-001:secret-credential-0001').toString('base64')}`;
    expect(t.hub.state.requests.every((r) => r.auth === basic)).toBe(true);
    await t.clock.advance(1_000);
    expect(t.received).toHaveLength(2); // polled again; the executor de-duplicates
  });

  it('goes offline when the hub is unreachable too, keeps every record, and backs off with jitter', async () => {
    const t = setup();
    t.hub.state.down = true;
    t.outbox.append('order', sampleBodies.order(1));
    t.sync.start();
    await t.clock.advance(5_100);
    expect(t.sync.state).toBe('offline');
    const polls = () => t.hub.state.requests.filter((r) => r.path === DEVICE_HTTP_PATHS.commands).length;
    const first = polls();
    await t.clock.advance(800);
    expect(polls()).toBe(first);
    await t.clock.advance(300); // 1 s after the first
    expect(polls()).toBe(first + 1);
    await t.clock.advance(2_100); // 2 s
    expect(polls()).toBe(first + 2);
    expect(t.outbox.stats().depth).toBe(1);
    t.hub.state.down = false;
    await t.clock.advance(4_100);
    expect(t.sync.state).toBe('http');
    expect(t.outbox.stats().depth).toBe(0);
  });

  it('is refused by a hub that revoked it: records stay in the outbox', async () => {
    const t = setup();
    t.hub.state.status = 403;
    t.outbox.append('order', sampleBodies.order(1));
    t.sync.start();
    await t.clock.advance(10_000);
    expect(t.sync.state).toBe('offline');
    expect(t.outbox.stats().depth).toBe(1);
  });
});
