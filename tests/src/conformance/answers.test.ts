import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForeignDevice, newUlid, randomDeviceId } from './support/device';
import { docLimit, docSection } from './support/document';
import { ConformanceHub, settle } from './support/hub';

/**
 * docs/protocol.md §3 (decoding order) and §5 (what gets an answer), held against a real hub over MQTT: every
 * refused message whose id can be read is answered in an ack with its code; what gets no answer is exactly
 * what the document lists.
 */
describe('conformance: answers to refused messages', () => {
  const hub = new ConformanceHub();
  let device: ForeignDevice;
  const decoding = docSection('### Decoding order and errors');
  const answers = docSection('### What gets an answer');

  beforeAll(async () => {
    await hub.start();
    const id = randomDeviceId('conf-ans');
    device = await ForeignDevice.connect(hub.hub.mqttUrl, id, await hub.register(id));
    await device.publish('status', device.birth());
  });
  afterAll(async () => {
    await device?.close();
    await hub.stop();
  });

  /** Publishes `payload` on `channel` and returns the hub's answer to `id`. */
  async function answerTo(channel: string, payload: unknown, id: string) {
    await device.publish(channel, JSON.stringify(payload));
    return device.waitForAnswer(id);
  }

  it('answers an invalid birth and an invalid heartbeat with VALIDATION_FAILED', async () => {
    expect(answers).toMatch(/invalid `birth` or `heartbeat` is answered/);
    const birth = device.birth();
    const badBirth = { ...birth, body: { ...(birth.body as object), model: '' } };
    expect(await answerTo('status', badBirth, birth.id)).toMatchObject({
      stored: false,
      code: 'VALIDATION_FAILED',
    });
    const heartbeat = device.heartbeat();
    const badHeartbeat = { ...heartbeat, body: { ...(heartbeat.body as object), state: 'dancing' } };
    expect(await answerTo('heartbeat', badHeartbeat, heartbeat.id)).toMatchObject({
      stored: false,
      code: 'VALIDATION_FAILED',
    });
  });

  it('answers each step of the decoding order with the code the document gives it', async () => {
    const codeOfStep = (n: number) => new RegExp(`^${n}\\. .*?→ \`([A-Z_]+)\``, 'ms').exec(decoding)?.[1];
    const record = device.telemetry();
    const cases: { step: number; channel: string; payload: Record<string, unknown> }[] = [
      { step: 3, channel: 'telemetry', payload: { ...record, id: newUlid(), v: '2.0' } },
      { step: 4, channel: 'telemetry', payload: { ...record, id: newUlid(), ts: 'yesterday' } },
      { step: 5, channel: 'telemetry', payload: { ...record, id: newUlid(), type: 'frobnicate' } },
      { step: 6, channel: 'telemetry', payload: { ...record, id: newUlid(), body: { samples: 'many' } } },
      {
        step: 7,
        channel: 'heartbeat', // a heartbeat may be 64 KiB; unknown fields are ignored but still count
        payload: { ...device.heartbeat(), padding: 'x'.repeat(docLimit('messageBytes')) },
      },
      { step: 8, channel: 'telemetry', payload: { ...record, id: newUlid(), deviceId: 'someone-else' } },
      { step: 9, channel: 'order', payload: { ...record, id: newUlid() } }, // telemetry on the order topic
      { step: 9, channel: 'status', payload: { ...device.heartbeat() } }, // heartbeat on the status topic
    ];
    for (const { step, channel, payload } of cases) {
      const code = codeOfStep(step);
      expect(code, `step ${step} names a code`).toBeDefined();
      const answer = await answerTo(channel, payload, String(payload.id));
      expect(answer, `step ${step} on ${channel}`).toMatchObject({ stored: false, code });
      expect(await hub.stored(String(payload.id))).toBe(false);
    }
  });

  it('answers a message over 1 MiB with MESSAGE_TOO_LARGE, whatever its size, and keeps the connection', async () => {
    const large = docLimit('largeMessageBytes');
    const window = Number(/in the first (\d+) KiB of the payload/.exec(decoding)?.[1]) * 1024;
    expect(window, 'the document says where the id of an oversized message is looked for').toBeGreaterThan(0);
    for (const size of [large + 1, 3 * large, 20 * large]) {
      const record = device.telemetry();
      const payload = { ...record, padding: 'x'.repeat(size) };
      const answer = await answerTo('telemetry', payload, record.id);
      expect(answer, `${size} bytes`).toMatchObject({ stored: false, code: 'MESSAGE_TOO_LARGE' });
      expect(await hub.stored(record.id)).toBe(false);
    }
    // A batch whose records come before its id: the batch is answered, never one of its records.
    const records = [device.telemetry(), device.telemetry()];
    const batch = device.envelope('batch', { records });
    const { id, body, ...rest } = batch;
    const padded = { body, ...rest, id, padding: 'x'.repeat(2 * large) };
    expect(JSON.stringify(padded).indexOf(`"id":"${id}"`)).toBeLessThan(window);
    expect(await answerTo('batch', padded, id)).toMatchObject({ stored: false, code: 'MESSAGE_TOO_LARGE' });
    await settle();
    for (const r of records) expect(device.answers.has(r.id)).toBe(false);
    expect(device.closes).toBe(0);
  });

  it('refuses an oversized batch as a whole by its id, and stores its records once resent within limits', async () => {
    const max = docLimit('batchRecords');
    const records = Array.from({ length: max + 1 }, () => device.telemetry());
    const batch = device.envelope('batch', { records });
    const answer = await answerTo('batch', batch, batch.id);
    expect(answer).toMatchObject({ stored: false });
    await settle();
    for (const r of records) {
      expect(device.answers.has(r.id), 'a record of a refused batch is neither stored nor rejected').toBe(
        false,
      );
    }
    expect(await hub.stored(records[0]?.id ?? '')).toBe(false);
    // §5: the device keeps the records and sends them again in batches within the limits.
    for (const part of [records.slice(0, max), records.slice(max)]) {
      await device.publish('batch', device.envelope('batch', { records: part }));
    }
    for (const r of records) expect(await device.waitForAnswer(r.id)).toEqual({ stored: true });
  });

  it('sends no answer for what the document lists, and keeps the connection', async () => {
    expect(answers).toMatch(/not JSON, not UTF-8, empty/);
    const before = device.answers.size;
    await device.publish('telemetry', '{"v":"1.0","id":');
    await device.publish('telemetry', '');
    await device.publish('telemetry', Buffer.from([0xff, 0xfe, 0x7b, 0x7d]));
    await device.publish('telemetry', JSON.stringify({ ...device.telemetry(), id: 'not-a-ulid' }));
    await device.publish('status', device.birth()); // valid non-record: needs no answer
    const record = device.telemetry();
    await device.publish('telemetry', record);
    expect(await device.waitForAnswer(record.id)).toEqual({ stored: true });
    await settle();
    expect(device.answers.size).toBe(before + 1);
    expect(device.closes).toBe(0);
  });

  it('sends no answer to a message over 1 MiB whose id is not at its start, and keeps the connection', async () => {
    const large = docLimit('largeMessageBytes');
    const record = device.telemetry();
    const { id, ...rest } = record;
    const late = { ...rest, padding: 'x'.repeat(2 * large), id };
    await device.publish('telemetry', JSON.stringify(late));
    const next = device.telemetry();
    await device.publish('telemetry', next);
    expect(await device.waitForAnswer(next.id)).toEqual({ stored: true });
    await settle();
    expect(device.answers.has(id)).toBe(false);
    expect(device.closes).toBe(0);
  });
});
