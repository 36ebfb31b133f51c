import { afterEach, describe, expect, it } from 'vitest';
import { deferred, type OrderHarness, orderHarness } from '../../test/helpers/orders/harness';
import { AgentError } from '../errors';
import { FREE_VEND_KEY } from './order-service';

const espresso = { recipeId: 'espresso', size: 'M', method: 'card' } as const;

function records(h: OrderHarness) {
  return h.store.outbox.peek(1000).map((e) => `${e.type}:${(e.body as { event: string }).event}`);
}

describe('order service', () => {
  let h: OrderHarness;
  afterEach(async () => {
    await h.service.stop();
    h.store.close();
  });

  it('authorizes, brews, then captures once, recording each state before its action', async () => {
    h = orderHarness();
    await h.service.start();
    const gate = deferred();
    h.terminal.authGate = gate.promise;
    const order = h.service.create(espresso);
    expect(order).toMatchObject({ state: 'authorizing', amount: 220, currency: 'EUR', method: 'card' });
    // AUTH is on its way and the ledger already says so
    expect(h.terminal.calls).toEqual([`AUTH ${order.id}`]);
    expect(h.ledger.get(order.id)?.state).toBe('authorizing');
    const brewGate = deferred();
    h.runner.gate = brewGate.promise;
    gate.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(h.ledger.get(order.id)).toMatchObject({
      state: 'brewing',
      payment: { state: 'authorized', txn: 'T1' },
    });
    expect(h.terminal.calls.filter((c) => c.startsWith('CAPTURE'))).toEqual([]);
    brewGate.resolve();
    await h.service.idle();
    const done = h.ledger.get(order.id);
    expect(done).toMatchObject({ state: 'completed', payment: { state: 'captured' } });
    expect(done?.dispensedAt).toBeDefined();
    expect(h.terminal.txns.get('T1')).toMatchObject({ state: 'captured', captures: 1, amount: 220 });
    expect(records(h)).toEqual([
      'order:created',
      'payment:authorized',
      'order:paid',
      'order:brewing',
      'payment:captured',
      'order:completed',
    ]);
    const seqs = h.store.outbox.peek(1000).map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a declined card ends the order without brewing', async () => {
    h = orderHarness();
    await h.service.start();
    h.terminal.auth = 'decline';
    const order = h.service.create(espresso);
    await h.service.idle();
    expect(h.ledger.get(order.id)).toMatchObject({
      state: 'failed',
      code: 'PAYMENT_DECLINED',
      payment: { state: 'declined' },
    });
    expect(h.runner.brews).toHaveLength(0);
    expect(records(h)).toEqual(['order:created', 'payment:declined', 'order:failed']);
  });

  it('a failed brew (no cup) voids the authorization and never captures', async () => {
    h = orderHarness();
    await h.service.start();
    h.runner.failWith = 'NO_CUP';
    const order = h.service.create(espresso);
    await h.service.idle();
    expect(h.ledger.get(order.id)).toMatchObject({
      state: 'failed',
      code: 'NO_CUP',
      payment: { state: 'voided' },
    });
    expect(h.terminal.txns.get('T1')?.state).toBe('voided');
    expect(h.terminal.calls.some((c) => c.startsWith('CAPTURE'))).toBe(false);
    expect(records(h)).toContain('payment:voided');
  });

  it('no card in time: the order fails with nothing to void', async () => {
    h = orderHarness();
    await h.service.start();
    h.terminal.auth = 'no_card';
    const order = h.service.create(espresso);
    await h.service.idle();
    expect(h.ledger.get(order.id)).toMatchObject({
      state: 'failed',
      code: 'PAYMENT_TIMEOUT',
      payment: { state: 'none' },
    });
    expect(h.runner.brews).toHaveLength(0);
  });

  it('an authorization whose reply was lost is found by reference and voided', async () => {
    h = orderHarness();
    await h.service.start();
    h.terminal.loseReplies.auth = true;
    const order = h.service.create(espresso);
    await h.service.idle();
    expect(h.ledger.get(order.id)).toMatchObject({
      state: 'failed',
      payment: { state: 'voided', txn: 'T1' },
    });
    expect(h.terminal.byRef(order.id)?.state).toBe('voided');
    expect(h.runner.brews).toHaveLength(0);
  });

  it('takes one order at a time', async () => {
    h = orderHarness();
    await h.service.start();
    const gate = deferred();
    h.terminal.authGate = gate.promise;
    h.service.create(espresso);
    expect(() => h.service.create(espresso)).toThrow(expect.objectContaining({ code: 'MACHINE_BUSY' }));
    gate.resolve();
    await h.service.idle();
    expect(h.service.create(espresso).state).toBe('authorizing');
    await h.service.idle();
  });

  it('refuses an order the machine cannot make, storing nothing', async () => {
    h = orderHarness();
    await h.service.start();
    h.runner.blocked = 'DOOR_OPEN';
    expect(() => h.service.create(espresso)).toThrow(expect.objectContaining({ code: 'DOOR_OPEN' }));
    expect(() => h.service.create({ ...espresso, recipeId: 'mocha' })).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
    expect(() => h.service.create({ ...espresso, size: 'XL' as 'L' })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(h.ledger.recent(10)).toEqual([]);
    expect(h.store.outbox.stats().depth).toBe(0);
  });

  it('refuses card orders while the terminal is offline', async () => {
    h = orderHarness();
    await h.service.start();
    h.terminal.connected = false;
    expect(() => h.service.create(espresso)).toThrow(expect.objectContaining({ code: 'PAYMENT_FAILED' }));
    expect(h.ledger.recent(10)).toEqual([]);
  });

  it('a void the terminal cannot take now is retried until it is confirmed', async () => {
    h = orderHarness();
    await h.service.start();
    const brewGate = deferred();
    h.runner.gate = brewGate.promise;
    h.runner.failWith = 'BREW_FAILED';
    const order = h.service.create(espresso);
    await new Promise((r) => setTimeout(r, 0));
    h.terminal.unreachable = true;
    brewGate.resolve();
    await h.service.idle();
    expect(h.ledger.get(order.id)).toMatchObject({ state: 'voiding', payment: { state: 'voiding' } });
    await h.clock.advance(1_000);
    expect(h.ledger.get(order.id)?.state).toBe('voiding');
    h.terminal.unreachable = false;
    await h.clock.advance(1_000);
    await h.service.reconcile();
    expect(h.ledger.get(order.id)).toMatchObject({ state: 'failed', payment: { state: 'voided' } });
    expect(h.terminal.txns.get('T1')?.state).toBe('voided');
  });

  it('a capture whose reply was lost is settled by STATUS, never by a second capture', async () => {
    h = orderHarness();
    await h.service.start();
    h.terminal.loseReplies.capture = true;
    const order = h.service.create(espresso);
    await h.service.idle();
    expect(h.ledger.get(order.id)?.state).toBe('capturing');
    h.terminal.loseReplies.capture = false;
    await h.service.reconcile();
    expect(h.ledger.get(order.id)).toMatchObject({ state: 'completed', payment: { state: 'captured' } });
    expect(h.terminal.calls.filter((c) => c.startsWith('CAPTURE'))).toHaveLength(1);
    expect(h.terminal.txns.get('T1')?.captures).toBe(1);
  });

  it('a customer abort during the brew voids the payment', async () => {
    h = orderHarness();
    await h.service.start();
    const brewGate = deferred();
    h.runner.gate = brewGate.promise;
    const order = h.service.create(espresso);
    await new Promise((r) => setTimeout(r, 0));
    h.service.abort(order.id);
    await h.service.idle();
    expect(h.ledger.get(order.id)).toMatchObject({
      state: 'failed',
      code: 'BREW_FAILED',
      payment: { state: 'voided' },
    });
  });

  it('free vend works only in service mode and is recorded as such', async () => {
    h = orderHarness();
    await h.service.start();
    const free = { recipeId: 'latte', size: 'L', method: 'free_vend' } as const;
    expect(() => h.service.create(free)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    h.store.settings.set(FREE_VEND_KEY, true);
    const order = h.service.create(free);
    await h.service.idle();
    expect(h.ledger.get(order.id)).toMatchObject({ state: 'completed', amount: 0, method: 'free_vend' });
    expect(h.ledger.get(order.id)?.payment).toBeUndefined();
    expect(h.terminal.calls).toEqual([]);
    const bodies = h.store.outbox
      .peek(10)
      .map((e) => e.body as { method: string; amount: number; event: string });
    expect(bodies.map((b) => b.event)).toEqual(['created', 'paid', 'brewing', 'completed']);
    expect(bodies.every((b) => b.method === 'free_vend' && b.amount === 0)).toBe(true);
  });

  it('refuses new sales while the disk is full, changes nothing, and sells again once it clears', async () => {
    h = orderHarness();
    await h.service.start();
    const first = h.service.create(espresso);
    await h.service.idle();
    const pages = h.store.db.pragma('page_count', { simple: true }) as number;
    h.store.db.pragma(`max_page_count = ${pages}`);
    let thrown: unknown;
    for (let i = 0; i < 50 && !thrown; i++) {
      try {
        h.service.create(espresso);
        await h.service.idle();
      } catch (err) {
        thrown = err;
      }
    }
    expect(thrown).toBeInstanceOf(AgentError);
    expect((thrown as AgentError).code).toBe('STORAGE_FULL');
    expect(h.ledger.get(first.id)?.state).toBe('completed');
    expect(h.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    h.store.db.pragma('max_page_count = 1073741823');
    const again = h.service.create(espresso);
    await h.service.idle();
    await h.service.reconcile();
    expect(h.ledger.get(again.id)?.state).toBe('completed');
    expect(h.ledger.open()).toEqual([]);
  });

  it('refuses new sales on a read-only database with STORAGE_READ_ONLY', async () => {
    h = orderHarness();
    await h.service.start();
    h.store.db.pragma('query_only = ON');
    expect(() => h.service.create(espresso)).toThrow(expect.objectContaining({ code: 'STORAGE_READ_ONLY' }));
    h.store.db.pragma('query_only = OFF');
    const order = h.service.create(espresso);
    await h.service.idle();
    expect(h.ledger.get(order.id)?.state).toBe('completed');
  });
});
