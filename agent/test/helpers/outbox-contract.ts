import {
  type BodyOf,
  createUlidGenerator,
  MessageCatalog,
  type RecordType,
  validateEnvelope,
} from '@crema/protocol';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Outbox, OutboxOptions } from '../../src/store/outbox/types';

export type OutboxFactory = (options: OutboxOptions) => { outbox: Outbox; close(): void };

const T0 = 1_700_000_000_000;

/** Sample bodies of each class, sized so that tests can reason about the byte bound. */
export const sampleBodies = {
  order: (i = 0): BodyOf<'order'> => ({
    orderId: `o-${i}`,
    event: 'created',
    recipeId: 'espresso',
    size: 'M',
    amount: 250,
    currency: 'EUR',
    method: 'card',
    at: T0 + i,
  }),
  payment: (i = 0): BodyOf<'payment'> => ({
    paymentId: `p-${i}`,
    orderId: `o-${i}`,
    event: 'authorized',
    amount: 250,
    currency: 'EUR',
    at: T0 + i,
  }),
  alarm: (i = 0): BodyOf<'alarm'> => ({
    code: 'water_low',
    state: 'raised',
    severity: 'warning',
    at: T0 + i,
  }),
  materials: (i = 0): BodyOf<'materials'> => ({
    levels: [{ material: 'water', level: 1000 - i, capacity: 2000, unit: 'ml' }],
    at: T0 + i,
  }),
  telemetry: (i = 0): BodyOf<'telemetry'> => ({
    samples: Array.from({ length: 20 }, (_, k) => ({ ts: T0 + i + k, metric: 'boiler_temp_c', value: 92.5 })),
  }),
};

type SampleType = keyof typeof sampleBodies;
const append = (outbox: Outbox, type: SampleType, i = 0) =>
  outbox.append(type as RecordType, sampleBodies[type](i) as BodyOf<RecordType>);

/** The outbox contract: every implementation must pass it unchanged. */
export function describeOutboxContract(name: string, factory: OutboxFactory): void {
  describe(`outbox contract: ${name}`, () => {
    let opened: { close(): void }[] = [];
    const make = (maxBytes = 10 * 1024 * 1024) => {
      let t = T0;
      const now = () => t++;
      const made = factory({ deviceId: 'dev-001', maxBytes, now, ulid: createUlidGenerator(now) });
      opened.push(made);
      return made.outbox;
    };
    afterEach(() => {
      for (const o of opened) o.close();
      opened = [];
    });

    it('numbers records contiguously from 1 with unique ULIDs and valid envelopes', () => {
      const outbox = make();
      const types: SampleType[] = ['order', 'telemetry', 'alarm', 'payment', 'materials'];
      const envelopes = types.map((t, i) => append(outbox, t, i));
      expect(envelopes.map((e) => e?.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(new Set(envelopes.map((e) => e?.id)).size).toBe(5);
      for (const e of envelopes) {
        expect(validateEnvelope(e).ok).toBe(true);
        expect(e?.deviceId).toBe('dev-001');
      }
      expect(outbox.stats().lastSeq).toBe(5);
    });

    it('peeks by priority class, then by sequence', () => {
      const outbox = make();
      for (const [i, t] of (
        ['telemetry', 'materials', 'alarm', 'order', 'telemetry', 'payment'] as const
      ).entries())
        append(outbox, t, i);
      const peeked = outbox.peek(10);
      expect(peeked.map((e) => e.type)).toEqual([
        'order',
        'payment',
        'alarm',
        'materials',
        'telemetry',
        'telemetry',
      ]);
      expect(peeked.map((e) => MessageCatalog[e.type].priority)).toEqual([0, 0, 1, 2, 3, 3]);
      expect(peeked[4]!.seq).toBeLessThan(peeked[5]!.seq);
      expect(outbox.peek(2)).toHaveLength(2);
      expect(outbox.peek(0)).toEqual([]);
    });

    it('acks delete only the named records and sequence numbers are never reused', () => {
      const outbox = make();
      const a = append(outbox, 'order', 1)!;
      const b = append(outbox, 'order', 2)!;
      const c = append(outbox, 'alarm', 3)!;
      expect(outbox.ack([a.id, '01ARZ3NDEKTSV4RRFFQ69G5FAV'])).toBe(1);
      expect(outbox.peek(10).map((e) => e.id)).toEqual([b.id, c.id]);
      expect(outbox.ack([a.id])).toBe(0);
      expect(outbox.ack([])).toBe(0);
      outbox.ack([b.id, c.id]);
      expect(outbox.stats().depth).toBe(0);
      expect(outbox.stats().bytes).toBe(0);
      expect(append(outbox, 'payment', 4)!.seq).toBe(4);
    });

    it('tracks depth and bytes per class', () => {
      const outbox = make();
      const e1 = append(outbox, 'telemetry', 1)!;
      append(outbox, 'order', 2);
      const s = outbox.stats();
      expect(s.depth).toBe(2);
      expect(s.byClass).toEqual({ money: 1, alarms: 0, materials: 0, telemetry: 1 });
      expect(s.bytes).toBeGreaterThan(Buffer.byteLength(JSON.stringify(e1)) - 1);
    });

    it('refuses an invalid body without consuming a sequence number', () => {
      const outbox = make();
      append(outbox, 'order', 1);
      expect(() => outbox.append('order', { orderId: 'x' } as BodyOf<'order'>)).toThrow();
      expect(append(outbox, 'order', 2)!.seq).toBe(2);
      expect(outbox.stats().depth).toBe(2);
    });

    it('over the disk bound drops telemetry first, then materials, then alarms, never money', () => {
      const telemetryBytes = Buffer.byteLength(JSON.stringify(append(make(), 'telemetry')));
      const outbox = make(telemetryBytes * 10);
      for (let i = 0; i < 9; i++) append(outbox, 'telemetry', i);
      append(outbox, 'materials', 0);
      const firstTelemetry = outbox.peek(100).find((e) => e.type === 'telemetry')!;
      for (let i = 0; i < 6; i++) append(outbox, 'order', i);
      let s = outbox.stats();
      expect(s.bytes).toBeLessThanOrEqual(s.maxBytes);
      expect(s.byClass.money).toBe(6);
      expect(s.byClass.materials).toBe(1);
      expect(s.dropped.telemetry).toBeGreaterThan(0);
      expect(s.dropped.materials).toBe(0);
      // the oldest telemetry went first
      expect(outbox.peek(100).some((e) => e.id === firstTelemetry.id)).toBe(false);
      let payments = 0;
      while (outbox.stats().dropped.materials === 0 && payments < 10_000)
        append(outbox, 'payment', payments++);
      s = outbox.stats();
      // materials went only once every telemetry record was gone; no money was ever dropped
      expect(s.byClass.telemetry).toBe(0);
      expect(s.byClass.materials).toBe(0);
      expect(s.dropped.materials).toBe(1);
      expect(s.dropped.money).toBe(0);
      expect(s.byClass.money).toBe(6 + payments);
      for (let i = 0; i < 50; i++) append(outbox, 'order', 100 + i);
      s = outbox.stats();
      expect(s.byClass.money).toBe(56 + payments);
      expect(s.bytes).toBeGreaterThan(s.maxBytes);
      expect(s.dropped.money).toBe(0);
      // a new telemetry record cannot push out money: it is the one refused, and counted
      const before = s.dropped.telemetry;
      expect(append(outbox, 'telemetry', 99)).toBeUndefined();
      expect(outbox.stats().dropped.telemetry).toBe(before + 1);
      expect(outbox.stats().byClass.money).toBe(56 + payments);
    });

    it('keeps its invariants under any mix of appends and acks', () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.oneof(
              fc.record({
                op: fc.constant('append' as const),
                type: fc.constantFrom(...Object.keys(sampleBodies)),
              }),
              fc.record({ op: fc.constant('ack' as const), n: fc.integer({ min: 0, max: 4 }) }),
            ),
            { maxLength: 40 },
          ),
          (ops) => {
            const outbox = make(4000);
            let appended = 0;
            let money = 0;
            for (const op of ops) {
              if (op.op === 'append') {
                const e = append(outbox, op.type as SampleType, appended);
                if (e) {
                  appended += 1;
                  expect(e.seq).toBe(appended);
                }
                if (op.type === 'order' || op.type === 'payment') money += 1;
              } else {
                const ids = outbox.peek(op.n).map((e) => e.id);
                const moneyAcked = outbox
                  .peek(op.n)
                  .filter((e) => MessageCatalog[e.type].priority === 0).length;
                expect(outbox.ack(ids)).toBe(ids.length);
                money -= moneyAcked;
              }
              const peeked = outbox.peek(1000);
              const s = outbox.stats();
              expect(peeked).toHaveLength(s.depth);
              expect(s.byClass.money).toBe(money);
              for (let i = 1; i < peeked.length; i++) {
                const a = peeked[i - 1]!;
                const b = peeked[i]!;
                const pa = MessageCatalog[a.type].priority;
                const pb = MessageCatalog[b.type].priority;
                expect(pa < pb || (pa === pb && a.seq < b.seq)).toBe(true);
              }
            }
          },
        ),
        { numRuns: 40 },
      );
    });
  });
}
