import { afterEach, describe, expect, it } from 'vitest';
import { type OrderHarness, orderHarness } from '../../test/helpers/orders/harness';
import type { OrderState, PaymentState } from './types';

/** Writes an order as a crash would have left it, and the terminal's matching memory. */
function leftOver(
  h: OrderHarness,
  state: OrderState,
  payment: { state: PaymentState; txn?: string } | undefined,
  extra: { dispensedAt?: number } = {},
) {
  const id = h.ulid();
  h.ledger.create(
    {
      id,
      recipeId: 'espresso',
      size: 'M',
      amount: 220,
      currency: 'EUR',
      method: payment ? 'card' : 'free_vend',
      state,
    },
    payment ? { id: h.ulid(), state: payment.state } : undefined,
    { order: ['created'] },
  );
  if (payment?.txn || extra.dispensedAt) {
    h.ledger.transition(id, { ...extra, ...(payment?.txn ? { payment: { txn: payment.txn } } : {}) });
  }
  return id;
}

function terminalTxn(h: OrderHarness, txn: string, ref: string, state: 'authorized' | 'captured' | 'voided') {
  h.terminal.txns.set(txn, { txn, ref, amount: 220, state, captures: state === 'captured' ? 1 : 0 });
}

describe('recovery after a crash', () => {
  let h: OrderHarness;
  afterEach(async () => {
    await h.service.stop();
    h.store.close();
  });

  it('an authorization in doubt is looked up by order id and voided', async () => {
    h = orderHarness();
    const id = leftOver(h, 'authorizing', { state: 'authorizing' });
    terminalTxn(h, 'X1', id, 'authorized');
    await h.service.start();
    await h.service.reconcile();
    expect(h.ledger.get(id)).toMatchObject({ state: 'failed', payment: { state: 'voided', txn: 'X1' } });
    expect(h.terminal.txns.get('X1')?.state).toBe('voided');
    expect(h.terminal.calls).toEqual([`STATUS ${id}`, 'VOID X1']);
  });

  it('an authorization the terminal never saw fails once the card window has passed', async () => {
    h = orderHarness({ authTimeoutMs: 10_000 });
    const id = leftOver(h, 'authorizing', { state: 'authorizing' });
    await h.service.start();
    await h.service.reconcile();
    expect(h.ledger.get(id)?.state).toBe('voiding');
    // the AUTH may still complete on the terminal while the customer holds the card
    await h.clock.advance(5_000);
    terminalTxn(h, 'X2', id, 'authorized');
    await h.clock.advance(1_000);
    await h.service.reconcile();
    expect(h.ledger.get(id)).toMatchObject({ state: 'failed', payment: { state: 'voided', txn: 'X2' } });

    const lost = leftOver(h, 'authorizing', { state: 'authorizing' });
    await h.service.reconcile();
    expect(h.ledger.get(lost)?.state).toBe('voiding');
    await h.clock.advance(16_000);
    await h.service.reconcile();
    expect(h.ledger.get(lost)).toMatchObject({ state: 'failed', payment: { state: 'none' } });
  });

  it('a brew without a confirmed dispense is voided, never captured', async () => {
    h = orderHarness();
    const id = leftOver(h, 'brewing', { state: 'authorized', txn: 'X3' });
    terminalTxn(h, 'X3', id, 'authorized');
    await h.service.start();
    await h.service.reconcile();
    expect(h.ledger.get(id)).toMatchObject({ state: 'failed', payment: { state: 'voided' } });
    expect(h.terminal.calls.some((c) => c.startsWith('CAPTURE'))).toBe(false);
  });

  it('a free vend cut short simply fails', async () => {
    h = orderHarness();
    const id = leftOver(h, 'brewing', undefined);
    await h.service.start();
    await h.service.reconcile();
    expect(h.ledger.get(id)?.state).toBe('failed');
    expect(h.terminal.calls).toEqual([]);
  });

  it('a dispensed drink whose capture was in doubt is captured exactly once', async () => {
    h = orderHarness();
    const pending = leftOver(h, 'capturing', { state: 'capturing', txn: 'X4' }, { dispensedAt: 1 });
    terminalTxn(h, 'X4', pending, 'authorized');
    const done = leftOver(h, 'capturing', { state: 'capturing', txn: 'X5' }, { dispensedAt: 1 });
    terminalTxn(h, 'X5', done, 'captured');
    await h.service.start();
    await h.service.reconcile();
    expect(h.ledger.get(pending)).toMatchObject({ state: 'completed', payment: { state: 'captured' } });
    expect(h.ledger.get(done)).toMatchObject({ state: 'completed', payment: { state: 'captured' } });
    expect(h.terminal.calls.filter((c) => c.startsWith('CAPTURE'))).toEqual(['CAPTURE X4']);
    expect(h.terminal.txns.get('X5')?.captures).toBe(1);
  });

  it('a capturing order without a recorded dispense is voided', async () => {
    h = orderHarness();
    const id = leftOver(h, 'capturing', { state: 'capturing', txn: 'X6' });
    terminalTxn(h, 'X6', id, 'authorized');
    await h.service.start();
    await h.service.reconcile();
    expect(h.ledger.get(id)).toMatchObject({ state: 'failed', payment: { state: 'voided' } });
  });

  it('an unreachable terminal leaves orders open until it answers, then settles them', async () => {
    h = orderHarness();
    const id = leftOver(h, 'capturing', { state: 'capturing', txn: 'X7' }, { dispensedAt: 1 });
    terminalTxn(h, 'X7', id, 'authorized');
    h.terminal.unreachable = true;
    await h.service.start();
    await h.service.reconcile();
    expect(h.ledger.get(id)?.state).toBe('capturing');
    h.terminal.unreachable = false;
    await h.clock.advance(1_000);
    await h.service.reconcile();
    expect(h.ledger.get(id)?.state).toBe('completed');
    expect(h.terminal.txns.get('X7')?.captures).toBe(1);
  });
});
