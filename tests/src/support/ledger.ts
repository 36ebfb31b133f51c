import { waitFor as baseWaitFor } from '@crema/protocol/testing';
import { expect } from 'vitest';
import type { TestHub } from './hub';
import type { TestMachine } from './machine';

/** The shared polling helper with this package's 30 s default (its tests run whole machines). */
export const waitFor = (check: () => boolean | Promise<boolean>, timeoutMs = 30_000, what = 'condition') =>
  baseWaitFor(check, timeoutMs, what, 50);

export async function hubRecords(hub: TestHub, deviceId: string) {
  return hub.db
    .selectFrom('received_messages')
    .select(['id', 'seq', 'type'])
    .where('device_id', '=', deviceId)
    .orderBy('seq')
    .execute();
}

/**
 * The hub holds exactly what the agent produced: every record of seq 1..lastSeq once (nothing lost, nothing
 * doubled, no gap), and every order of the agent's ledger with its amount and final state.
 */
export async function expectHubMatchesLedger(hub: TestHub, machine: TestMachine): Promise<void> {
  const ledger = machine.ledger();
  expect(ledger.depth).toBe(0);
  const records = await hubRecords(hub, machine.deviceId);
  expect(records.map((r) => r.seq)).toEqual(Array.from({ length: ledger.lastSeq }, (_, i) => i + 1));
  expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
  const hubOrders = await hub.db
    .selectFrom('orders')
    .select(['order_id', 'status', 'amount'])
    .where('device_id', '=', machine.deviceId)
    .execute();
  const byId = new Map(hubOrders.map((o) => [o.order_id, o]));
  expect(hubOrders).toHaveLength(ledger.orders.length);
  for (const order of ledger.orders) {
    expect(byId.get(order.id), `order ${order.id} at the hub`).toMatchObject({
      amount: order.amount,
      status: order.state,
    });
  }
}

/** The hub's gap table holds no open range for this device (every sequence number arrived). */
export async function expectNoSequenceGaps(hub: TestHub, deviceId: string): Promise<void> {
  const gaps = await hub.db
    .selectFrom('sequence_gaps')
    .selectAll()
    .where('device_id', '=', deviceId)
    .execute();
  expect(gaps).toEqual([]);
}

/**
 * Samples the agent's outbox depth while the hub is unreachable: a record may leave the outbox only on the
 * hub's ack, so with no hub the depth never drops. Returns the drops seen (empty when none).
 */
export class DepthWatch {
  private readonly drops: { from: number; to: number }[] = [];
  private last = -1;
  private timer: ReturnType<typeof setInterval> | undefined;
  samples = 0;

  constructor(private readonly machine: TestMachine) {}

  start(everyMs = 20): void {
    this.last = this.machine.store.outbox.stats().depth;
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  stop(): { from: number; to: number }[] {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.drops;
  }

  private sample(): void {
    const depth = this.machine.store.outbox.stats().depth;
    this.samples++;
    if (depth < this.last) this.drops.push({ from: this.last, to: depth });
    this.last = depth;
  }
}
