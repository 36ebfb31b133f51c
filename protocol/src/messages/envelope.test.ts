import { describe, expect, it } from 'vitest';
import { MessageExamples } from '../docs/examples';
import type { ErrorCode } from '../errors';
import { Limits } from '../limits';
import { MESSAGE_TYPES, MessageCatalog, RECORD_TYPES } from './catalog';
import { COMMAND_KINDS } from './command';
import {
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  makeEnvelope,
  splitBatch,
  validateEnvelope,
} from './envelope';

const heartbeat = MessageExamples.heartbeat[0]!;
const order = MessageExamples.order[0]!;

function expectCode(raw: string | Uint8Array, code: ErrorCode) {
  const result = decodeEnvelope(raw);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error.code).toBe(code);
}

const withHeader = (patch: Record<string, unknown>) => JSON.stringify({ ...heartbeat, ...patch });

describe('every message type round-trips', () => {
  it('has at least one example per type and per command kind', () => {
    for (const t of MESSAGE_TYPES) expect(MessageExamples[t].length, t).toBeGreaterThan(0);
    expect(MessageExamples.command.map((c) => c.body.kind).sort()).toEqual([...COMMAND_KINDS].sort());
  });

  const cases = MESSAGE_TYPES.flatMap((t) =>
    (MessageExamples[t] as Envelope[]).map((e, i) => [`${t} #${i + 1}`, e] as const),
  );
  it.each(cases)('%s', (_name, example) => {
    const rebuilt = makeEnvelope(
      example.type,
      { id: example.id, deviceId: example.deviceId, seq: example.seq, ts: example.ts },
      example.body as never,
    );
    const text = encodeEnvelope(rebuilt);
    const back = decodeEnvelope(text);
    expect(back).toEqual({ ok: true, value: example });
    // the same through bytes, as MQTT delivers them
    expect(decodeEnvelope(new TextEncoder().encode(text))).toEqual({ ok: true, value: example });
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MessageCatalog[example.type].maxBytes);
  });

  it('numbers records and leaves seq 0 on the others', () => {
    for (const t of MESSAGE_TYPES) {
      for (const e of MessageExamples[t] as Envelope[]) {
        if (RECORD_TYPES.includes(e.type as never)) expect(e.seq, t).toBeGreaterThan(0);
        else expect(e.seq, t).toBe(0);
      }
    }
  });

  it('applies schema defaults when encoding', () => {
    const env = makeEnvelope('ack', { id: heartbeat.id, deviceId: heartbeat.deviceId, ts: 1 }, {
      ids: [],
    } as never);
    expect(JSON.parse(encodeEnvelope(env)).body.rejected).toEqual([]);
    expect(env.seq).toBe(0);
  });
});

describe('bad messages are refused with their code', () => {
  it('malformed JSON', () => {
    expectCode('{"v":"1.0",', 'MALFORMED_JSON');
    expectCode('', 'MALFORMED_JSON');
    expectCode(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'MALFORMED_JSON');
  });

  it('oversized: over the absolute limit before parsing, over the type limit after', () => {
    expectCode('x'.repeat(Limits.largeMessageBytes + 1), 'MESSAGE_TOO_LARGE');
    // a heartbeat padded with an unknown field past its 64 KiB limit, still well-formed JSON
    expectCode(withHeader({ pad: 'p'.repeat(Limits.messageBytes) }), 'MESSAGE_TOO_LARGE');
    // telemetry may be larger: the same padding is fine there
    const telemetry = MessageExamples.telemetry[0]!;
    expect(decodeEnvelope(JSON.stringify({ ...telemetry, pad: 'p'.repeat(Limits.messageBytes) })).ok).toBe(
      true,
    );
  });

  it('refuses to encode a valid message over its limit, and invalid ones', () => {
    const result = MessageExamples.command_result[0]!;
    const huge = { ...result, body: { ...result.body, output: { log: 'l'.repeat(Limits.messageBytes) } } };
    expect(() => encodeEnvelope(huge)).toThrow(expect.objectContaining({ code: 'MESSAGE_TOO_LARGE' }));
    const alarm = MessageExamples.alarm[0]!;
    const invalid = { ...alarm, body: { ...alarm.body, message: 'm'.repeat(300) } };
    expect(() => encodeEnvelope(invalid)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('wrong types in the header or the body', () => {
    expectCode(withHeader({ seq: '3' }), 'VALIDATION_FAILED');
    expectCode(withHeader({ id: 'not-a-ulid' }), 'VALIDATION_FAILED');
    expectCode(withHeader({ deviceId: 'Bad/Id' }), 'VALIDATION_FAILED');
    expectCode(withHeader({ ts: -1 }), 'VALIDATION_FAILED');
    expectCode(withHeader({ body: { ...heartbeat.body, uptimeS: 'long' } }), 'VALIDATION_FAILED');
    expectCode(withHeader({ body: { ...heartbeat.body, state: 'dancing' } }), 'VALIDATION_FAILED');
    expectCode(JSON.stringify({ ...order, body: { ...order.body, amount: 3.5 } }), 'VALIDATION_FAILED');
    expectCode('[]', 'VALIDATION_FAILED');
    expectCode('null', 'VALIDATION_FAILED');
    expectCode('42', 'VALIDATION_FAILED');
  });

  it('the body of one type under another type', () => {
    expectCode(JSON.stringify({ ...heartbeat, type: 'order' }), 'VALIDATION_FAILED');
  });

  it('unknown types', () => {
    expectCode(withHeader({ type: 'coffee_rating' }), 'UNKNOWN_MESSAGE_TYPE');
    expectCode(withHeader({ type: 'constructor' }), 'UNKNOWN_MESSAGE_TYPE');
    expectCode(withHeader({ type: '__proto__' }), 'UNKNOWN_MESSAGE_TYPE');
  });

  it('unknown major versions, before anything else is looked at', () => {
    expectCode(withHeader({ v: '2.0' }), 'UNSUPPORTED_VERSION');
    expectCode(withHeader({ v: '0.9' }), 'UNSUPPORTED_VERSION');
    expectCode(withHeader({ v: '2.0', type: 'future', body: 'anything' }), 'UNSUPPORTED_VERSION');
    expectCode(withHeader({ v: 'one' }), 'VALIDATION_FAILED');
  });
});

describe('versioning rule', () => {
  it('accepts a newer minor version and drops the fields it does not know', () => {
    const newer = {
      ...order,
      v: '1.7',
      priority: 'high',
      body: { ...order.body, loyaltyCard: 'L-991', cup: { material: 'paper' } },
    };
    const result = decodeEnvelope(JSON.stringify(newer));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.v).toBe('1.7');
    expect(result.value).not.toHaveProperty('priority');
    expect(result.value.body).toEqual(order.body);
  });

  it('accepts unknown fields nested in command params of a newer minor', () => {
    const lock = MessageExamples.command[0]!;
    const newer = { ...lock, v: '1.3', body: { ...lock.body, params: { ...lock.body.params, until: 99 } } };
    const result = decodeEnvelope(JSON.stringify(newer));
    expect(result.ok && result.value.body).toEqual(lock.body);
  });

  it('accepts an older minor version', () => {
    expect(decodeEnvelope(withHeader({ v: '1.0' })).ok).toBe(true);
  });

  it('keeps set_config settings strict (the documented exception)', () => {
    const setConfig = MessageExamples.command.find((c) => c.body.kind === 'set_config')!;
    const body = setConfig.body as { params: { config: { settings: object } } };
    const newer = {
      ...setConfig,
      v: '1.2',
      body: {
        ...body,
        params: { config: { version: 5, settings: { ...body.params.config.settings, dimLeds: true } } },
      },
    };
    const result = decodeEnvelope(JSON.stringify(newer));
    expect(!result.ok && result.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('batches', () => {
  const [orderRec, paymentRec] = MessageExamples.batch[0]!.body.records as Envelope[];

  it('keeps good records and rejects the bad ones one by one', () => {
    const broken = { ...orderRec, id: '01M7YRRT80CE9SAWR9B9NZJE00', body: { ...orderRec!.body, amount: -1 } };
    const future = { ...orderRec, id: '01M7YRRT80CE9SAWR9B9NZJE01', type: 'loyalty' };
    const otherMajor = { ...orderRec, id: '01M7YRRT80CE9SAWR9B9NZJE02', v: '3.0' };
    const { good, bad } = splitBatch([
      orderRec,
      broken,
      'garbage',
      null,
      future,
      paymentRec,
      otherMajor,
      heartbeat,
    ]);
    expect(good).toEqual([orderRec, paymentRec]);
    expect(bad.map((b) => [b.id, b.error.code])).toEqual([
      ['01M7YRRT80CE9SAWR9B9NZJE00', 'VALIDATION_FAILED'],
      [undefined, 'VALIDATION_FAILED'],
      [undefined, 'VALIDATION_FAILED'],
      ['01M7YRRT80CE9SAWR9B9NZJE01', 'UNKNOWN_MESSAGE_TYPE'],
      ['01M7YRRT80CE9SAWR9B9NZJE02', 'UNSUPPORTED_VERSION'],
      [heartbeat.id, 'VALIDATION_FAILED'],
    ]);
  });

  it('refuses an empty batch and one over the record limit', () => {
    const batch = MessageExamples.batch[0]!;
    expectCode(JSON.stringify({ ...batch, body: { records: [] } }), 'VALIDATION_FAILED');
    const many = Array.from({ length: Limits.batchRecords + 1 }, () => orderRec);
    expectCode(JSON.stringify({ ...batch, body: { records: many } }), 'VALIDATION_FAILED');
  });

  it('validateEnvelope accepts a parsed record as is', () => {
    expect(validateEnvelope(orderRec)).toEqual({ ok: true, value: orderRec });
  });
});
