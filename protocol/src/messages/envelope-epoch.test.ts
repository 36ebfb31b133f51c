import { describe, expect, it } from 'vitest';
import { MessageExamples } from '../docs/examples';
import { decodeEnvelope, encodeEnvelope, makeEnvelope, splitBatch } from './envelope';

const order = MessageExamples.order[0]!;
const heartbeat = MessageExamples.heartbeat[0]!;
const EPOCH = '01JF3Z8K2M4N6P7Q9R0S1T2V3W';

describe('ledger epoch and record numbering', () => {
  it('carries an optional epoch, and envelopes without one (older devices) stay valid', () => {
    const withEpoch = makeEnvelope('order', { ...order, epoch: EPOCH }, order.body);
    const decoded = decodeEnvelope(encodeEnvelope(withEpoch));
    expect(decoded.ok && decoded.value.epoch).toBe(EPOCH);
    const without = decodeEnvelope(JSON.stringify(order));
    expect(without.ok && 'epoch' in without.value).toBe(false);
    const bad = decodeEnvelope(JSON.stringify({ ...order, epoch: 'not-a-ulid' }));
    expect(bad.ok || bad.error.code).toBe('VALIDATION_FAILED');
  });

  it('refuses a record numbered 0 (it could never be ordered or checked for gaps); messages keep seq 0', () => {
    const zero = decodeEnvelope(JSON.stringify({ ...order, seq: 0 }));
    expect(zero.ok || [zero.error.code, zero.error.message]).toEqual([
      'VALIDATION_FAILED',
      'seq: a order record is numbered from 1',
    ]);
    const { good, bad } = splitBatch([{ ...order, seq: 0 }, order]);
    expect(good.map((r) => r.id)).toEqual([order.id]);
    expect(bad.map((b) => b.error.code)).toEqual(['VALIDATION_FAILED']);
    expect(decodeEnvelope(JSON.stringify({ ...heartbeat, seq: 0 })).ok).toBe(true);
  });
});
