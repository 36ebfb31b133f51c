import { BrewerDialect } from '@crema/protocol';
import { describe, expect, it } from 'vitest';
import { scriptDevice } from '../../../test/helpers/scripted-device';
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

describe('SerialBrewer', () => {
  it('parses STATUS and returns OK values of other verbs', async () => {
    const { transport, brewer } = setup();
    scriptDevice(transport, BrewerDialect, (req) =>
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
    scriptDevice(transport, BrewerDialect, () => ({
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
    const dev = scriptDevice(transport, BrewerDialect, () => undefined);
    const events: BrewerEvent[] = [];
    brewer.onEvent((e) => events.push(e));
    await brewer.start();
    dev.event('PROGRESS', { op: 'brew', pct: 40 });
    dev.event('DOOR', { state: 'open' });
    transport.drop();
    expect(events).toEqual([
      { type: 'link', state: 'up' },
      { type: 'progress', op: 'brew', pct: 40 },
      { type: 'door', state: 'open' },
      { type: 'link', state: 'down' },
    ]);
    await brewer.stop();
  });
});
