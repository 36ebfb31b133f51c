import type { Simulator } from '@crema/firmware-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinePaymentTerminal } from '../src/drivers/payment/line-terminal';
import { SerialTransport } from '../src/drivers/transport/serial';
import { silentLogger } from '../src/log/logger';
import { systemClock } from '../src/time/clock';
import { fastSimulator } from './helpers/sim';

describe('payment terminal against the simulator (pseudo-terminal)', () => {
  let sim: Simulator;
  let terminal: LinePaymentTerminal;
  beforeAll(async () => {
    sim = await fastSimulator();
    terminal = new LinePaymentTerminal({
      transport: new SerialTransport(sim.endpoints.payment.pty ?? ''),
      clock: systemClock,
      logger: silentLogger,
      authTimeoutMs: 10_000,
      requestTimeoutMs: 1000,
    });
    await terminal.start();
  }, 30_000);
  afterAll(async () => {
    await terminal?.stop();
    await sim?.stop();
  });

  it('authorizes and captures once, and finds the transaction by reference', async () => {
    const auth = await terminal.authorize(350, 'EUR', 'order-1');
    expect(auth).toMatchObject({ state: 'authorized', amount: 350 });
    await expect(terminal.capture(auth.txn, 350)).resolves.toMatchObject({ state: 'captured' });
    await expect(terminal.status({ ref: 'order-1' })).resolves.toMatchObject({
      txn: auth.txn,
      state: 'captured',
    });
    await expect(terminal.status({ ref: 'never-sent' })).resolves.toBeUndefined();
  });

  it('resolves a declined card as a declined state and voids an authorization', async () => {
    sim.faults.inject('payment_decline', { reason: 'insufficient_funds' });
    await expect(terminal.authorize(350, 'EUR', 'order-2')).resolves.toMatchObject({
      state: 'declined',
      reason: 'insufficient_funds',
    });
    sim.faults.clear('payment_decline');
    const auth = await terminal.authorize(200, 'EUR', 'order-3');
    await expect(terminal.void(auth.txn)).resolves.toMatchObject({ state: 'voided' });
  });

  it('maps no card in time and a hung terminal to PAYMENT_TIMEOUT', async () => {
    sim.faults.inject('payment_no_card');
    await expect(terminal.authorize(350, 'EUR', 'order-4')).rejects.toMatchObject({
      code: 'PAYMENT_TIMEOUT',
    });
    sim.faults.clear('payment_no_card');
    sim.faults.inject('payment_timeout');
    await expect(terminal.authorize(350, 'EUR', 'order-5', { timeoutMs: 800 })).rejects.toMatchObject({
      code: 'PAYMENT_TIMEOUT',
    });
    sim.faults.clear('payment_timeout');
  }, 20_000);
});
