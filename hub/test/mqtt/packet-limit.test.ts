import { connect, type Socket } from 'node:net';
import { encodeEnvelope, makeEnvelope, topicFor, ulid } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import { openTestDb, type TestDb } from '../support/db';
import { waitUntil } from './support/device';
import { registerDevice, startGateway, type TestGateway } from './support/fleet';

const run = Date.now().toString(36);
const id = `plim-${run}`;

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

/** MQTT 3.1.1 CONNECT, clean session, with user name and password. */
function connectPacket(clientId: string, password: string): Buffer {
  const variable = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60])]);
  const payload = Buffer.concat([str(clientId), str(clientId), str(password)]);
  const body = Buffer.concat([variable, payload]);
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body]);
}

/** QoS 1 PUBLISH. */
function publishPacket(topic: string, packetId: number, payload: Buffer): Buffer {
  const body = Buffer.concat([str(topic), Buffer.from([packetId >> 8, packetId & 0xff]), payload]);
  return Buffer.concat([Buffer.from([0x32]), varint(body.length), body]);
}

/**
 * The packet limit hooks mqtt-packet's parser; these write raw bytes, so an oversized PUBLISH and the packets
 * around it share one TCP segment, the case a client library never shows reliably.
 */
describe('embedded broker: an oversized publish is skipped without losing its neighbours', () => {
  let store: TestDb;
  let db: Db;
  let gateway: TestGateway;
  let secret: string;

  beforeAll(async () => {
    store = await openTestDb('sqlite');
    db = store.db;
    secret = await registerDevice(db, id, 'm-one');
    gateway = await startGateway(db);
  });
  afterAll(async () => {
    await gateway?.stop();
    await store?.cleanup();
  });

  it('acknowledges the oversized publish and the one after it in the same write, and stores the second', async () => {
    const url = new URL(gateway.address);
    const socket: Socket = connect(Number(url.port), url.hostname);
    let received = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(connectPacket(id, secret));
    await waitUntil(() => received.length >= 4);
    expect([...received.subarray(0, 4)]).toEqual([0x20, 0x02, 0x00, 0x00]); // CONNACK accepted
    received = Buffer.alloc(0);

    const topic = topicFor(id, 'telemetry');
    const samples = [{ ts: Date.now(), metric: 'boiler_temp_c', value: 90 }];
    const big = makeEnvelope('telemetry', { id: ulid(), deviceId: id, seq: 1, ts: Date.now() }, { samples });
    const bigPayload = Buffer.from(`${encodeEnvelope(big).slice(0, -1)},"pad":"${' '.repeat(2 << 20)}"}`);
    const small = makeEnvelope(
      'telemetry',
      { id: ulid(), deviceId: id, seq: 2, ts: Date.now() },
      { samples },
    );
    socket.write(
      Buffer.concat([
        publishPacket(topic, 7, bigPayload),
        publishPacket(topic, 8, Buffer.from(encodeEnvelope(small))),
      ]),
    );
    await waitUntil(() => received.length >= 8);
    const pubacks = [received.readUInt16BE(2), received.readUInt16BE(6)].sort();
    expect(received[0]).toBe(0x40);
    expect(received[4]).toBe(0x40);
    expect(pubacks).toEqual([7, 8]);
    await waitUntil(async () => {
      const row = await db.kysely
        .selectFrom('received_messages')
        .select('id')
        .where('id', '=', small.id)
        .executeTakeFirst();
      return row !== undefined;
    });
    expect(socket.destroyed).toBe(false);
    socket.destroy();
  });
});
