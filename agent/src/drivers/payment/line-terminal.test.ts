import { PaymentDialect } from '@crema/protocol';
import { describe, expect, it } from 'vitest';
import { scriptDevice } from '../../../test/helpers/scripted-device';
import { silentLogger } from '../../log/logger';
import { FakeClock } from '../../time/fake-clock';
import { FakeTransport } from '../transport/fake';
import { LinePaymentTerminal } from './line-terminal';

function setup() {
  const clock = new FakeClock();
  const transport = new FakeTransport();
  const terminal = new LinePaymentTerminal({
    transport,
    clock,
    logger: silentLogger,
    authTimeoutMs: 30_000,
    requestTimeoutMs: 1000,
    watchdog: false,
  });
  return { clock, transport, terminal };
}

describe('LinePaymentTerminal', () => {
  it('resolves declines as a state, not an error', async () => {
    const { transport, terminal } = setup();
    scriptDevice(transport, PaymentDialect, () => ({
      verb: 'OK',
      args: { txn: 't1', state: 'declined', reason: 'insufficient_funds' },
    }));
    await terminal.start();
    await expect(terminal.authorize(350, 'EUR', 'o1')).resolves.toEqual({
      txn: 't1',
      state: 'declined',
      reason: 'insufficient_funds',
    });
  });

  it('maps ERR TIMEOUT and a silent terminal to PAYMENT_TIMEOUT, and never resends AUTH', async () => {
    const { clock, transport, terminal } = setup();
    let silent = false;
    const dev = scriptDevice(transport, PaymentDialect, () =>
      silent ? 'silent' : { verb: 'ERR', args: { code: 'TIMEOUT' } },
    );
    await terminal.start();
    await expect(terminal.authorize(350, 'EUR', 'o1')).rejects.toMatchObject({ code: 'PAYMENT_TIMEOUT' });
    silent = true;
    const p = terminal.authorize(350, 'EUR', 'o2').catch((e: unknown) => e);
    await clock.advance(30_000);
    expect(await p).toMatchObject({ code: 'PAYMENT_TIMEOUT' });
    expect(dev.requests.filter((r) => r.verb === 'AUTH')).toHaveLength(2);
  });

  it('settles a capture whose reply was lost through STATUS, sending CAPTURE only once', async () => {
    const { clock, transport, terminal } = setup();
    const dev = scriptDevice(transport, PaymentDialect, (req) =>
      req.verb === 'CAPTURE' ? 'silent' : { verb: 'OK', args: { txn: 't9', state: 'captured', amount: 350 } },
    );
    await terminal.start();
    const p = terminal.capture('t9', 350);
    await clock.advance(1000);
    await expect(p).resolves.toMatchObject({ state: 'captured' });
    expect(dev.requests.map((r) => r.verb)).toEqual(['CAPTURE', 'STATUS']);
  });

  it('reports an unconfirmed void as PAYMENT_TIMEOUT and unknown transactions as undefined', async () => {
    const { clock, transport, terminal } = setup();
    scriptDevice(transport, PaymentDialect, (req) =>
      req.verb === 'VOID' ? 'silent' : { verb: 'ERR', args: { code: 'NOT_FOUND' } },
    );
    await terminal.start();
    const p = terminal.void('t5').catch((e: unknown) => e);
    await clock.advance(1000);
    expect(await p).toMatchObject({ code: 'PAYMENT_TIMEOUT', details: { txn: 't5' } });
    await expect(terminal.status({ ref: 'nope' })).resolves.toBeUndefined();
  });

  it('maps other terminal errors to PAYMENT_FAILED', async () => {
    const { transport, terminal } = setup();
    scriptDevice(transport, PaymentDialect, () => ({ verb: 'ERR', args: { code: 'BAD_STATE' } }));
    await terminal.start();
    await expect(terminal.void('t1')).rejects.toMatchObject({
      code: 'PAYMENT_FAILED',
      details: { code: 'BAD_STATE' },
    });
  });
});
