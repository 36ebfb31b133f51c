import { BrewerDialect, encodeFrame, IDEMPOTENT_BREWER_VERBS } from '@crema/protocol';
import { describe, expect, it } from 'vitest';
import { scriptDevice } from '../../../test/helpers/scripted-device';
import { AgentError } from '../../errors';
import { silentLogger } from '../../log/logger';
import { FakeClock } from '../../time/fake-clock';
import { FakeTransport } from '../transport/fake';
import { LineClient, type LineClientOptions } from './client';

function setup(overrides: Partial<LineClientOptions> = {}) {
  const clock = new FakeClock();
  const transport = new FakeTransport();
  const client = new LineClient({
    name: 'brewer',
    transport,
    dialect: BrewerDialect,
    clock,
    logger: silentLogger,
    idempotentVerbs: IDEMPOTENT_BREWER_VERBS,
    errors: { timeout: 'BREWER_TIMEOUT', disconnected: 'BREWER_DISCONNECTED' },
    requestTimeoutMs: 1000,
    watchdog: false,
    ...overrides,
  });
  return { clock, transport, client };
}

async function rejection(p: Promise<unknown>): Promise<AgentError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AgentError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('LineClient', () => {
  it('pairs replies with requests by id, whatever their order', async () => {
    const { transport, client } = setup();
    const held: Array<() => void> = [];
    scriptDevice(transport, BrewerDialect, (req, answer) => {
      held.push(() => answer({ verb: 'OK', args: { echo: req.verb } }));
      return undefined;
    });
    await client.start();
    const a = client.request('INFO');
    const b = client.request('STATUS');
    held[1]?.();
    held[0]?.();
    expect((await a).args).toEqual({ echo: 'INFO' });
    expect((await b).args).toEqual({ echo: 'STATUS' });
  });

  it('times out with a message naming the verb, id and link', async () => {
    const { clock, transport, client } = setup();
    scriptDevice(transport, BrewerDialect, () => 'silent');
    await client.start();
    const p = rejection(client.request('BREW', { ml: 30, temp_c: 92, bar: 9 }));
    await clock.advance(1000);
    const err = await p;
    expect(err.code).toBe('BREWER_TIMEOUT');
    expect(err.message).toMatch(/no reply to BREW #[0-9A-F]{4} within 1000 ms on fake/);
  });

  it('retries idempotent verbs only', async () => {
    const { clock, transport, client } = setup({ retries: 2 });
    const dev = scriptDevice(transport, BrewerDialect, (req) =>
      req.verb === 'STATUS' && dev.requests.length < 3
        ? 'silent'
        : req.verb === 'STATUS'
          ? { verb: 'OK' }
          : 'silent',
    );
    await client.start();
    const status = client.request('STATUS');
    await clock.advance(2000);
    await expect(status).resolves.toMatchObject({ verb: 'OK' });
    expect(dev.requests.map((r) => r.verb)).toEqual(['STATUS', 'STATUS', 'STATUS']);
    expect(new Set(dev.requests.map((r) => r.id)).size).toBe(3);

    const grind = rejection(client.request('GRIND', { g: 9 }));
    await clock.advance(5000);
    expect((await grind).code).toBe('BREWER_TIMEOUT');
    expect(dev.requests.filter((r) => r.verb === 'GRIND')).toHaveLength(1);
  });

  it('counts bad checksums and garbage without throwing, then still matches the good reply', async () => {
    const { transport, client } = setup();
    scriptDevice(transport, BrewerDialect, (req, answer) => {
      const good = encodeFrame({ kind: 'reply', id: req.id, verb: 'OK', args: {} });
      const corrupt = good.replace(
        /\*([0-9A-F]{4})/,
        (_m, crc: string) => `*${crc === '0000' ? '0001' : '0000'}`,
      );
      transport.emit(corrupt);
      transport.emit('garbage here\n');
      transport.emit(`${'x'.repeat(300)}\n`);
      answer({ verb: 'OK', args: { n: 1 } });
      return undefined;
    });
    await client.start();
    await expect(client.request('PING')).resolves.toMatchObject({ args: { n: '1' } });
    expect(client.stats.badLines).toBe(3);
  });

  it('forwards events and ignores stray replies', async () => {
    const { transport, client } = setup();
    const dev = scriptDevice(transport, BrewerDialect, () => undefined);
    await client.start();
    const events: string[] = [];
    client.onEvent((f) => events.push(`${f.verb}:${JSON.stringify(f.args)}`));
    dev.event('FAULT', { code: 'pump_fault' });
    transport.emit(encodeFrame({ kind: 'reply', id: 0x1234, verb: 'OK', args: {} }));
    expect(events).toEqual(['FAULT:{"code":"pump_fault"}']);
    expect(client.stats.unmatchedReplies).toBe(1);
  });

  it('fails pending requests when the device disappears and reconnects with capped backoff, reset on open', async () => {
    const { clock, transport, client } = setup({ backoff: { initialMs: 1000, factor: 1.5, maxMs: 4000 } });
    scriptDevice(transport, BrewerDialect, () => 'silent');
    const links: string[] = [];
    client.onLink((s) => links.push(s));
    await client.start();
    const pending = rejection(client.request('BREW', { ml: 30, temp_c: 92, bar: 9 }, { timeoutMs: 60_000 }));
    transport.drop(true);
    const err = await pending;
    expect(err.code).toBe('BREWER_DISCONNECTED');
    expect(client.connected).toBe(false);
    await expect(client.request('PING')).rejects.toMatchObject({ code: 'BREWER_DISCONNECTED' });

    // Attempts at +1000, +1500, +2250, +3375, then every 4000 (capped).
    const attemptTimes: number[] = [];
    const t0 = clock.now();
    const origOpen = transport.open.bind(transport);
    transport.open = () => {
      attemptTimes.push(clock.now() - t0);
      return origOpen();
    };
    await clock.advance(20_000);
    expect(attemptTimes).toEqual([1000, 2500, 4750, 8125, 12125, 16125]);
    transport.unplugged = false;
    await clock.advance(4000);
    expect(client.connected).toBe(true);
    expect(links).toEqual(['up', 'down', 'up']);

    // After a successful open the next outage starts again from the initial delay.
    transport.drop(true);
    const before = attemptTimes.length;
    const t1 = clock.now();
    await clock.advance(1000);
    expect(attemptTimes.length).toBe(before + 1);
    expect((attemptTimes.at(-1) ?? 0) + t0).toBe(t1 + 1000);
  });

  it('pings an idle link and reopens it when nothing arrives within the dead time', async () => {
    const { clock, transport, client } = setup({ watchdog: { idleMs: 5000, deadMs: 15_000 } });
    let answering = true;
    const dev = scriptDevice(transport, BrewerDialect, () => (answering ? { verb: 'OK' } : 'silent'));
    await client.start();
    await clock.advance(5000);
    expect(dev.requests.map((r) => r.verb)).toEqual(['PING']);
    await clock.advance(20_000);
    expect(client.connected).toBe(true);
    answering = false;
    const opensBefore = transport.openCount;
    await clock.advance(15_000);
    expect(client.connected).toBe(false);
    await clock.advance(1000);
    expect(transport.openCount).toBe(opensBefore + 1);
    expect(client.connected).toBe(true);
  });
});

describe('LineClient input checks', () => {
  it('refuses a request that cannot be framed with VALIDATION_FAILED, sending nothing', async () => {
    const { transport, client } = setup();
    await client.start();
    await expect(client.request('AUTH', { ref: 'x'.repeat(200) })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(transport.written).toEqual([]);
  });
});
