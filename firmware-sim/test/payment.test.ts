import { existsSync } from 'node:fs';
import { PaymentDialect } from '@crema/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/index';
import { LineClient } from './helpers/line-client';

describe('payment terminal', () => {
  let sim: Simulator;
  let tcp: LineClient;

  beforeAll(async () => {
    sim = await startSimulator({ timeScale: 20, seed: 5 });
    tcp = await LineClient.tcp(sim.endpoints.payment.tcp, PaymentDialect);
    await tcp.event('READY');
  });
  afterEach(() => {
    for (const f of sim.faults.list()) sim.faults.clear(f.name);
  });
  afterAll(async () => {
    await tcp?.close();
    await sim?.stop();
  });

  const payments = async () =>
    (await (await fetch(`${sim.endpoints.control}/payments`)).json()) as {
      orders: Array<{
        ref: string;
        captureRequests: number;
        voidRequests: number;
        captured: number;
        voided: number;
      }>;
    };

  it('authorizes after a card is presented, captures once, answers a repeated capture the same', async () => {
    const auth = await tcp.request('AUTH', { amount: 350, cur: 'EUR', ref: 'order-1' });
    expect(auth.args).toMatchObject({ state: 'authorized', amount: 350 });
    await tcp.event('CARD', (a) => a.state === 'presented');
    const txn = String(auth.args.txn);
    expect((await tcp.request('CAPTURE', { txn })).args).toMatchObject({
      txn,
      state: 'captured',
      amount: 350,
    });
    expect((await tcp.request('CAPTURE', { txn })).args).toMatchObject({ txn, state: 'captured' });
    expect((await tcp.request('VOID', { txn })).args).toMatchObject({ code: 'BAD_STATE' });
    expect((await tcp.request('STATUS', { ref: 'order-1' })).args).toMatchObject({ txn, state: 'captured' });
    const order = (await payments()).orders.find((o) => o.ref === 'order-1');
    expect(order).toMatchObject({ captureRequests: 2, captured: 1, voidRequests: 1 });
  });

  it('voids an authorization; unknown transactions are NOT_FOUND; a second AUTH while one waits is BUSY', async () => {
    const pending = tcp.send('AUTH', { amount: 200, cur: 'EUR', ref: 'order-2' });
    expect((await tcp.request('AUTH', { amount: 1, cur: 'EUR', ref: 'order-x' })).args).toMatchObject({
      code: 'BUSY',
    });
    expect((await tcp.request('STATUS', { ref: 'order-2' })).args).toMatchObject({ state: 'pending' });
    const auth = await tcp.waitFor((l) => l.frame?.kind === 'reply' && l.frame.id === pending);
    const txn = String(auth.frame?.args.txn);
    expect((await tcp.request('VOID', { txn })).args).toMatchObject({ state: 'voided' });
    expect((await tcp.request('CAPTURE', { txn })).args).toMatchObject({ code: 'BAD_STATE' });
    expect((await tcp.request('STATUS', { txn: 'T999999-0000' })).args).toMatchObject({ code: 'NOT_FOUND' });
    expect((await tcp.request('AUTH', { amount: -5, cur: 'EUR', ref: 'x' })).args).toMatchObject({
      code: 'BAD_ARGS',
    });
  });

  it('payment_decline: AUTH answers OK state=declined with the reason', async () => {
    sim.faults.inject('payment_decline', { reason: 'card_expired' });
    const auth = await tcp.request('AUTH', { amount: 300, cur: 'EUR', ref: 'order-3' });
    expect(auth.verb).toBe('OK');
    expect(auth.args).toMatchObject({ state: 'declined', reason: 'card_expired' });
  });

  it('payment_no_card: AUTH ends with ERR TIMEOUT after the card wait', async () => {
    sim.faults.inject('payment_no_card');
    const auth = await tcp.request('AUTH', { amount: 300, cur: 'EUR', ref: 'order-4' }, 5000);
    expect(auth.args).toMatchObject({ code: 'TIMEOUT' });
    expect((await tcp.request('STATUS', { ref: 'order-4' })).args).toMatchObject({ state: 'declined' });
  });

  it('payment_timeout: the terminal does not answer at all until it recovers', async () => {
    sim.faults.inject('payment_timeout');
    await expect(tcp.request('PING', {}, 1000)).rejects.toThrow(/no matching line/);
    sim.faults.clear('payment_timeout');
    expect((await tcp.request('PING')).verb).toBe('OK');
  });

  it('payment_link_down removes the pty and resets TCP; clearing it brings both back', async () => {
    const path = sim.endpoints.payment.pty!;
    sim.faults.inject('payment_link_down');
    await expect.poll(() => existsSync(path)).toBe(false);
    sim.faults.clear('payment_link_down');
    await expect.poll(() => existsSync(path)).toBe(true);
    const serial = await LineClient.serial(path, PaymentDialect);
    expect((await serial.request('PING')).verb).toBe('OK');
    await serial.close();
    tcp = await LineClient.tcp(sim.endpoints.payment.tcp, PaymentDialect);
    await tcp.event('READY');
  });

  it('keeps transactions across an agent restart: an AUTH whose reply was lost is found by ref on the pty', async () => {
    const first = await LineClient.serial(sim.endpoints.payment.pty!, PaymentDialect);
    first.send('AUTH', { amount: 420, cur: 'EUR', ref: 'order-crash' });
    // The agent dies once the terminal has the request, before the answer comes back.
    await expect.poll(() => sim.payments.latestFor('order-crash')?.state).toBe('pending');
    await first.close();
    const second = await LineClient.serial(sim.endpoints.payment.pty!, PaymentDialect);
    let status = await second.request('STATUS', { ref: 'order-crash' });
    for (let i = 0; i < 40 && status.args.state === 'pending'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = await second.request('STATUS', { ref: 'order-crash' });
    }
    expect(status.args).toMatchObject({ state: 'authorized', amount: 420 });
    expect((await second.request('VOID', { txn: String(status.args.txn) })).args).toMatchObject({
      state: 'voided',
    });
    await second.close();
    expect((await payments()).orders.find((o) => o.ref === 'order-crash')).toMatchObject({
      voided: 1,
      captured: 0,
    });
  });
});
