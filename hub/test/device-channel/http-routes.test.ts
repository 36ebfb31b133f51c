import { request } from 'node:http';
import {
  AckSchema,
  CommandPollSchema,
  DEVICE_HTTP_PATHS,
  type Envelope,
  encodeEnvelope,
} from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/db';
import { type ApiAnswer, envelopeOf, eventually, type SyncHub, startSyncHub } from './support/hub';

/**
 * The device HTTP fallback over real HTTP: a machine without MQTT pushes its records and polls its commands
 * with its own credential; the records go through the same ingest as MQTT and show in the admin API.
 */
describe.each(BACKENDS)('device HTTP fallback on %s', (backend) => {
  let h: SyncHub;
  let deviceId: string;
  let secret: string;
  let seq = 0;

  beforeAll(async () => {
    h = await startSyncHub(backend);
    deviceId = `http-${backend}-${Date.now() % 100_000}`;
    secret = await h.register(deviceId);
  }, 30_000);
  afterAll(async () => {
    await h?.stop();
  });

  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  const call = async (
    method: 'GET' | 'POST',
    path: string,
    body?: string,
    auth: string | null = basic(deviceId, secret),
  ): Promise<ApiAnswer> => {
    const res = await fetch(`${h.at.http}${path}`, {
      method,
      headers: {
        ...(auth === null ? {} : { authorization: auth }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      body: text ? JSON.parse(text) : undefined,
    };
  };
  /** A POST on a connection of its own (node:http, no keep-alive pool). */
  const postAlone = (path: string, body: string) =>
    new Promise<ApiAnswer>((resolve, reject) => {
      const req = request(
        `${h.at.http}${path}`,
        {
          method: 'POST',
          agent: false,
          headers: { authorization: basic(deviceId, secret), 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString('utf8');
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              contentType: res.headers['content-type'] ?? null,
              body: text ? JSON.parse(text) : undefined,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const batchOf = (records: unknown[], from = deviceId) =>
    encodeEnvelope(envelopeOf(from, 'batch', { records }) as Envelope);
  const order = (orderId: string, from = deviceId) => {
    seq += 1;
    return envelopeOf(
      from,
      'order',
      {
        orderId,
        event: 'paid',
        recipeId: 'espresso',
        size: 'M',
        amount: 320,
        currency: 'EUR',
        method: 'card',
        at: Date.now(),
      },
      seq,
    );
  };
  const ordersListed = async () => {
    const res = await h.api('GET', `/api/v1/orders?deviceId=${deviceId}&limit=500`);
    expect(res.status).toBe(200);
    return res.body.items as { orderId: string }[];
  };
  const expectProblem = (res: ApiAnswer, status: number, code: string) => {
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.code).toBe(code);
  };

  it('stores a pushed batch once, answers with the ack after commit and shows the orders', async () => {
    const good = [order('ord-h1'), order('ord-h2')];
    const bad = { ...order('ord-bad'), body: { orderId: 'ord-bad' } };
    const foreign = order('ord-foreign', 'someone-else');
    const answer = await call('POST', DEVICE_HTTP_PATHS.records, batchOf([...good, bad, foreign]));
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const ack = AckSchema.parse(answer.body);
    expect(new Set(ack.ids)).toEqual(new Set(good.map((r) => r.id)));
    expect(ack.rejected.map((r) => [r.id, r.code]).sort()).toEqual(
      [
        [bad.id, 'VALIDATION_FAILED'],
        [foreign.id, 'DEVICE_MISMATCH'],
      ].sort(),
    );
    const listed = (await ordersListed()).map((o) => o.orderId).sort();
    expect(listed).toEqual(['ord-h1', 'ord-h2']);

    // The same batch again (the device never saw the answer): acknowledged again, stored once.
    const again = AckSchema.parse((await call('POST', DEVICE_HTTP_PATHS.records, batchOf(good))).body);
    expect(new Set(again.ids)).toEqual(new Set(good.map((r) => r.id)));
    expect(await ordersListed()).toHaveLength(2);
  }, 30_000);

  it('takes birth and progress messages, and serves pending commands to the poll', async () => {
    const birth = envelopeOf(deviceId, 'birth', {
      model: 'crema-one',
      firmwareVersion: '1.2.3',
      agentVersion: '0.4.0',
      capabilities: ['http_fallback'],
      recipeSetVersion: 0,
      priceListVersion: 0,
      configVersion: 0,
      lastSeq: seq,
      bootId: 'boot-http',
    });
    const posted = await call('POST', DEVICE_HTTP_PATHS.messages, encodeEnvelope(birth as Envelope));
    expect(posted.status).toBe(202);
    await eventually(
      async () => (await h.api('GET', `/api/v1/devices/${deviceId}`)).body.state?.online === true,
    );

    const created = await h.api('POST', '/api/v1/commands', {
      kind: 'unlock',
      target: { deviceIds: [deviceId] },
    });
    expect(created.status).toBe(201);
    const commandId = created.body.commands[0].id as string;
    const polled = await call('GET', DEVICE_HTTP_PATHS.commands);
    expect(polled.status).toBe(200);
    const poll = CommandPollSchema.parse(polled.body);
    expect(poll.commands.map((c) => c.commandId)).toEqual([commandId]);
    expect(poll.commands[0]).toMatchObject({ kind: 'unlock', params: {} });
    expect((await h.api('GET', `/api/v1/commands/${commandId}`)).body.status).toBe('delivered');

    const progress = envelopeOf(deviceId, 'command_progress', {
      commandId,
      status: 'executing',
      at: Date.now(),
    });
    expect(
      (await call('POST', DEVICE_HTTP_PATHS.messages, encodeEnvelope(progress as Envelope))).status,
    ).toBe(202);
    await eventually(
      async () => (await h.api('GET', `/api/v1/commands/${commandId}`)).body.status === 'executing',
    );
    expect(CommandPollSchema.parse((await call('GET', DEVICE_HTTP_PATHS.commands)).body).commands).toEqual(
      [],
    );

    seq += 1;
    const result = envelopeOf(
      deviceId,
      'command_result',
      { commandId, status: 'succeeded', at: Date.now() },
      seq,
    );
    const ack = AckSchema.parse((await call('POST', DEVICE_HTTP_PATHS.records, batchOf([result]))).body);
    expect(ack.ids).toEqual([result.id]);
    await eventually(
      async () => (await h.api('GET', `/api/v1/commands/${commandId}`)).body.status === 'succeeded',
    );
  }, 30_000);

  it('refuses bad input with coded problems and stores nothing from it', async () => {
    const before = (await ordersListed()).length;
    const one = batchOf([order('ord-refused')]);
    expectProblem(await call('POST', DEVICE_HTTP_PATHS.records, one, null), 401, 'AUTH_REQUIRED');
    expectProblem(
      await call('POST', DEVICE_HTTP_PATHS.records, one, basic(deviceId, 'not-the-secret')),
      401,
      'AUTH_INVALID_CREDENTIALS',
    );
    expectProblem(await call('GET', DEVICE_HTTP_PATHS.commands, undefined, 'Bearer x'), 401, 'AUTH_REQUIRED');
    // Another device's envelope, even with a valid credential.
    const other = `other-${backend}-${Date.now() % 100_000}`;
    await h.register(other);
    expectProblem(
      await call('POST', DEVICE_HTTP_PATHS.records, batchOf([order('ord-x', other)], other)),
      400,
      'DEVICE_MISMATCH',
    );
    expectProblem(await call('POST', DEVICE_HTTP_PATHS.records, '{"v":'), 400, 'MALFORMED_JSON');
    expectProblem(
      await call('POST', DEVICE_HTTP_PATHS.records, encodeEnvelope(order('ord-single') as Envelope)),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(
      await call('POST', DEVICE_HTTP_PATHS.messages, encodeEnvelope(order('ord-msg') as Envelope)),
      400,
      'VALIDATION_FAILED',
    );
    // Over the limit: refused before the body is read (on a connection of its own, which the server closes).
    const huge = JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 10) });
    expectProblem(await postAlone(DEVICE_HTTP_PATHS.records, huge), 413, 'MESSAGE_TOO_LARGE');
    const big = JSON.stringify({ pad: 'x'.repeat(70_000) });
    expectProblem(await postAlone(DEVICE_HTTP_PATHS.messages, big), 413, 'MESSAGE_TOO_LARGE');
    expect((await ordersListed()).length).toBe(before);
  }, 30_000);

  it('answers 403 DEVICE_REVOKED to a revoked device holding its old credential', async () => {
    const id = `rev-${backend}-${Date.now() % 100_000}`;
    const cred = await h.register(id);
    expect((await call('GET', DEVICE_HTTP_PATHS.commands, undefined, basic(id, cred))).status).toBe(200);
    expect((await h.api('POST', `/api/v1/devices/${id}/revoke`)).status).toBe(200);
    expectProblem(
      await call('GET', DEVICE_HTTP_PATHS.commands, undefined, basic(id, cred)),
      403,
      'DEVICE_REVOKED',
    );
    // Without the credential nobody learns that the device exists or was revoked.
    expectProblem(
      await call('GET', DEVICE_HTTP_PATHS.commands, undefined, basic(id, 'guess')),
      401,
      'AUTH_INVALID_CREDENTIALS',
    );
  }, 30_000);
});
