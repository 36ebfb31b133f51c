import { createUlidGenerator, type RecordEnvelope } from '@crema/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { sampleBodies } from '../../test/helpers/outbox-contract';
import { silentLogger } from '../log/logger';
import { MemoryOutbox } from '../store/outbox/memory-outbox';
import { FakeClock } from '../time/fake-clock';
import { type DrainerOptions, OutboxDrainer, type RecordSender } from './drainer';

/** A sender that records what it was given and lets the test decide when (and whether) sends succeed. */
class RecordingSender implements RecordSender {
  readonly name = 'fake';
  readonly calls: RecordEnvelope[][] = [];
  failNext = 0;
  constructor(readonly maxPending = Number.POSITIVE_INFINITY) {}
  async send(records: RecordEnvelope[]): Promise<void> {
    this.calls.push(records);
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('link down');
    }
  }
  get sent(): RecordEnvelope[] {
    return this.calls.flat();
  }
}

function setup(overrides: Partial<DrainerOptions> = {}) {
  const clock = new FakeClock();
  const outbox = new MemoryOutbox({
    deviceId: 'dev-001',
    maxBytes: 1 << 28,
    now: () => clock.now(),
    ulid: createUlidGenerator(() => clock.now()),
  });
  const drainer = new OutboxDrainer({
    outbox,
    clock,
    logger: silentLogger,
    window: 10,
    chunk: 5,
    ackTimeoutMs: 5_000,
    pollMs: 100,
    retry: { initialMs: 1_000, maxMs: 8_000 },
    random: () => 1,
    ...overrides,
  });
  const sender = new RecordingSender();
  return { clock, outbox, drainer, sender };
}

const telemetry = (outbox: MemoryOutbox, n: number) => {
  for (let i = 0; i < n; i++) outbox.append('telemetry', sampleBodies.telemetry(i));
};

describe('OutboxDrainer', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
  });

  it('deletes a record only when an ack names it (stored or rejected)', async () => {
    telemetry(t.outbox, 8);
    t.drainer.start();
    t.drainer.attach(t.sender);
    await t.clock.advance(10);
    expect(t.sender.sent).toHaveLength(8);
    expect(t.outbox.stats().depth).toBe(8);
    const [a, b, c] = t.sender.sent;
    t.drainer.handleAck({ ids: [a!.id], rejected: [{ id: b!.id, code: 'VALIDATION_FAILED' }] });
    expect(t.outbox.stats().depth).toBe(6);
    const left = t.outbox.peek(100).map((r) => r.id);
    expect(left).not.toContain(a!.id);
    expect(left).not.toContain(b!.id);
    expect(left).toContain(c!.id);
    // An ack for an unknown id deletes nothing else.
    expect(t.drainer.handleAck({ ids: ['01ARZ3NDEKTSV4RRFFQ69G5FAV'], rejected: [] })).toBe(0);
    expect(t.outbox.stats().depth).toBe(6);
  });

  it('keeps at most `window` records unacknowledged, in priority then seq order', async () => {
    telemetry(t.outbox, 30);
    t.drainer.start();
    t.drainer.attach(t.sender);
    await t.clock.advance(1_000);
    expect(t.sender.sent).toHaveLength(10);
    expect(t.sender.sent.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    t.drainer.handleAck({ ids: t.sender.sent.slice(0, 5).map((r) => r.id), rejected: [] });
    await t.clock.advance(1);
    expect(t.sender.sent.map((r) => r.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(t.drainer.stats.inFlight).toBe(10);
  });

  it('resends what was not acknowledged after the ack timeout, with the same id and seq', async () => {
    telemetry(t.outbox, 3);
    t.drainer.start();
    t.drainer.attach(t.sender);
    await t.clock.advance(10);
    const first = t.sender.sent.map((r) => r.id);
    t.drainer.handleAck({ ids: [first[0]!], rejected: [] });
    await t.clock.advance(4_000);
    expect(t.sender.sent).toHaveLength(3);
    await t.clock.advance(1_200);
    const again = t.sender.sent.slice(3);
    expect(again.map((r) => r.id)).toEqual(first.slice(1));
    expect(again.map((r) => r.seq)).toEqual([2, 3]);
    expect(t.outbox.stats().depth).toBe(2);
  });

  it('resends everything unacknowledged when the path changes (reconnect)', async () => {
    telemetry(t.outbox, 4);
    t.drainer.start();
    t.drainer.attach(t.sender);
    await t.clock.advance(10);
    t.drainer.detach();
    const next = new RecordingSender();
    t.drainer.attach(next);
    await t.clock.advance(10);
    expect(next.sent.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(t.outbox.stats().depth).toBe(4);
  });

  it('throttles to the configured records per second', async () => {
    t = setup({ ratePerS: 10, window: 1_000, chunk: 100 });
    telemetry(t.outbox, 100);
    t.drainer.start();
    t.drainer.attach(t.sender);
    await t.clock.advance(2_000);
    const sent = t.sender.sent.length;
    // 2 s at 10/s plus the one-record burst.
    expect(sent).toBeGreaterThanOrEqual(19);
    expect(sent).toBeLessThanOrEqual(21);
    t.drainer.setRate(undefined);
    await t.clock.advance(200);
    expect(t.sender.sent).toHaveLength(100);
  });

  it('never starves a live money record behind a telemetry backlog', async () => {
    t = setup({ window: 50, chunk: 25 });
    telemetry(t.outbox, 5_000);
    t.drainer.start();
    t.drainer.attach(t.sender);
    await t.clock.advance(10);
    expect(t.sender.sent).toHaveLength(50);
    const order = t.outbox.append('order', sampleBodies.order(1));
    const payment = t.outbox.append('payment', sampleBodies.payment(1));
    // The window is full: nothing moves until the hub acknowledges something (the order is seen at the next
    // poll tick or kick, re-reading the outbox head at most every refreshMs = 500 ms)...
    t.drainer.kick();
    await t.clock.advance(600);
    expect(t.sender.sent).toHaveLength(50);
    t.drainer.handleAck({ ids: t.sender.sent.slice(0, 25).map((r) => r.id), rejected: [] });
    await t.clock.advance(1);
    // ...and then the money goes first, ahead of 4,950 older telemetry records.
    const next = t.sender.calls[t.sender.calls.length - 1]!;
    expect(next.slice(0, 2).map((r) => r.id)).toEqual([order!.id, payment!.id]);
    expect(next.slice(2).every((r) => r.type === 'telemetry')).toBe(true);
  });

  it('backs off after a failed send and retries the same records', async () => {
    telemetry(t.outbox, 2);
    t.sender.failNext = 2;
    t.drainer.start();
    t.drainer.attach(t.sender);
    await t.clock.advance(10);
    expect(t.sender.calls).toHaveLength(1);
    await t.clock.advance(900);
    expect(t.sender.calls).toHaveLength(1);
    await t.clock.advance(200); // first retry after 1 s
    expect(t.sender.calls).toHaveLength(2);
    await t.clock.advance(1_500);
    expect(t.sender.calls).toHaveLength(2);
    await t.clock.advance(600); // second retry after 2 s
    expect(t.sender.calls).toHaveLength(3);
    expect(t.sender.calls[2]!.map((r) => r.seq)).toEqual([1, 2]);
    expect(t.outbox.stats().depth).toBe(2);
  });

  it('keeps one send outstanding for a sender that allows only one', async () => {
    const slow = new (class extends RecordingSender {
      release: (() => void)[] = [];
      override async send(records: RecordEnvelope[]): Promise<void> {
        this.calls.push(records);
        await new Promise<void>((r) => this.release.push(r));
      }
    })(1);
    telemetry(t.outbox, 10);
    t.drainer.start();
    t.drainer.attach(slow);
    await t.clock.advance(10);
    expect(slow.calls).toHaveLength(1);
    slow.release.shift()?.();
    await t.clock.advance(10);
    expect(slow.calls).toHaveLength(2);
  });
});
