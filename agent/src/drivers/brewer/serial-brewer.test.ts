import { BrewerDialect, type Frame } from '@crema/protocol';
import { describe, expect, it } from 'vitest';
import { type Answer, scriptDevice } from '../../../test/helpers/scripted-device';
import { silentLogger } from '../../log/logger';
import { FakeClock } from '../../time/fake-clock';
import { FakeTransport } from '../transport/fake';
import { SerialBrewer } from './serial-brewer';
import type { BrewerEvent } from './types';

const STATUS = {
  state: 'idle',
  temp_c: 92.5,
  bar: 0,
  water_ml: 1800,
  beans_g: 400,
  milk_ml: 900,
  cups: 40,
  waste_pct: 12,
  cup: 0,
  door: 'closed',
  faults: 'waste_full:pump_fault',
};

function setup() {
  const clock = new FakeClock();
  const transport = new FakeTransport();
  const brewer = new SerialBrewer({ transport, clock, logger: silentLogger, watchdog: false });
  return { clock, transport, brewer };
}

const BREWER_A = { serial: 'SIM-CM-1-00001', model: 'cm-1' };

/** A scripted brewer that answers INFO with `who.identity`, and everything else with `handler`. */
function brewerDevice(
  transport: FakeTransport,
  handler: (req: Frame, answer: (a: Answer) => void) => Answer | undefined,
  who: { identity: { serial: string; model: string } } = { identity: BREWER_A },
) {
  return scriptDevice(transport, BrewerDialect, (req, answer) =>
    req.verb === 'INFO' ? { verb: 'OK', args: { fw: '1.4.2', ...who.identity } } : handler(req, answer),
  );
}

describe('SerialBrewer', () => {
  it('parses STATUS and returns OK values of other verbs', async () => {
    const { transport, brewer } = setup();
    brewerDevice(transport, (req) =>
      req.verb === 'STATUS' ? { verb: 'OK', args: STATUS } : { verb: 'OK', args: { g: 8.9 } },
    );
    await brewer.start();
    const status = await brewer.status();
    expect(status).toMatchObject({
      temp_c: 92.5,
      cup: false,
      door: 'closed',
      faults: ['waste_full', 'pump_fault'],
    });
    await expect(brewer.request('GRIND', { g: 9 })).resolves.toEqual({ g: '8.9' });
  });

  it('turns ERR replies into BREWER_REJECTED with the brewer code and fault', async () => {
    const { transport, brewer } = setup();
    brewerDevice(transport, () => ({
      verb: 'ERR',
      args: { code: 'EMPTY', fault: 'beans_empty' },
    }));
    await brewer.start();
    await expect(brewer.request('GRIND', { g: 9 })).rejects.toMatchObject({
      code: 'BREWER_REJECTED',
      details: { code: 'EMPTY', fault: 'beans_empty', verb: 'GRIND' },
    });
  });

  it('forwards events and link changes as typed BrewerEvents', async () => {
    const { transport, brewer } = setup();
    const dev = brewerDevice(transport, () => undefined);
    const events: BrewerEvent[] = [];
    brewer.onEvent((e) => events.push(e));
    await brewer.start();
    dev.event('PROGRESS', { op: 'BREW', pct: 40 });
    dev.event('DOOR', { state: 'open' });
    transport.drop();
    expect(events).toEqual([
      { type: 'link', state: 'up' },
      { type: 'progress', op: 'BREW', pct: 40 },
      { type: 'door', state: 'open' },
      { type: 'link', state: 'down' },
    ]);
    await brewer.stop();
  });

  it('checks INFO on every reconnect and refuses a different brewer on the same link', async () => {
    const { clock, transport, brewer } = setup();
    const who = { identity: BREWER_A };
    const dev = brewerDevice(transport, () => ({ verb: 'OK' }), who);
    const events: BrewerEvent[] = [];
    brewer.onEvent((e) => events.push(e));
    await brewer.start();
    expect(brewer.connected).toBe(true);
    expect(brewer.identity).toEqual(BREWER_A);

    // Unplugged; another machine's brewer appears on the same path and announces itself.
    transport.drop();
    who.identity = { serial: 'SIM-CM-1-00002', model: 'cm-1' };
    const reply = transport.reply;
    transport.reply = (line) => {
      dev.event('READY', { fw: '1.4.2', model: 'cm-1' });
      reply?.(line);
    };
    await clock.advance(60_000);
    expect(brewer.connected).toBe(false);
    expect(brewer.stats.refusedDevices).toBeGreaterThan(1);
    expect(brewer.refusal).toMatchObject({ expected: BREWER_A, found: who.identity });
    // Only INFO ever went to the stranger; its READY never reached the agent.
    const sinceDrop = dev.requests.slice(1).map((r) => r.verb);
    expect(new Set(sinceDrop)).toEqual(new Set(['INFO']));
    expect(events.filter((e) => e.type === 'ready')).toEqual([]);
    await expect(brewer.request('STATUS')).rejects.toMatchObject({ code: 'BREWER_DISCONNECTED' });

    // The machine's own brewer is back: accepted, and its READY is passed on.
    who.identity = BREWER_A;
    await clock.advance(60_000);
    expect(brewer.connected).toBe(true);
    expect(brewer.refusal).toBeUndefined();
    expect(events.filter((e) => e.type === 'ready')).toHaveLength(1);
    await expect(brewer.request('STATUS')).resolves.toEqual({});
    await brewer.stop();
  });

  it('does not take a link whose device will not say who it is', async () => {
    const { clock, transport, brewer } = setup();
    scriptDevice(transport, BrewerDialect, (req) =>
      req.verb === 'INFO' ? { verb: 'OK', args: { fw: '1.4.2' } } : { verb: 'OK' },
    );
    await brewer.start();
    await clock.advance(10_000);
    expect(brewer.connected).toBe(false);
    expect(brewer.identity).toBeUndefined();
    await brewer.stop();
  });

  it('refuses a brewer other than the configured one from the first connect', async () => {
    const clock = new FakeClock();
    const transport = new FakeTransport();
    const brewer = new SerialBrewer({
      transport,
      clock,
      logger: silentLogger,
      watchdog: false,
      identity: { serial: 'SIM-CM-1-00009', model: 'cm-1' },
    });
    brewerDevice(transport, () => ({ verb: 'OK' }));
    await brewer.start();
    expect(brewer.connected).toBe(false);
    expect(brewer.refusal?.found).toEqual(BREWER_A);
    await brewer.stop();
  });

  it('accepts a replacement brewer once told to forget the pinned one, and remembers the new one', async () => {
    const { clock, transport } = setup();
    let kept: unknown = { serial: 'SIM-CM-1-00009', model: 'cm-1' };
    const brewer = new SerialBrewer({
      transport,
      clock,
      logger: silentLogger,
      watchdog: false,
      memory: { load: () => kept as { serial: string; model: string }, save: (id) => (kept = id) },
    });
    brewerDevice(transport, () => ({ verb: 'OK' }));
    await brewer.start();
    expect(brewer.connected).toBe(false);
    brewer.forgetIdentity();
    await clock.advance(0);
    expect(brewer.connected).toBe(true);
    expect(brewer.identity).toEqual(BREWER_A);
    expect(kept).toEqual(BREWER_A);
    await brewer.stop();
  });
});
