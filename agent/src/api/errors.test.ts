import { ErrorCodes, PROBLEM_CONTENT_TYPE, ProblemSchema, ProtocolError } from '@crema/protocol';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { AgentError } from '../errors';
import { silentLogger } from '../log/logger';
import { onApiError } from './errors';

const app = new Hono();
app.onError(onApiError(silentLogger));
app.get('/coded', () => {
  throw new AgentError('SALES_LOCKED', 'locked by the operator');
});
app.get('/protocol', () => {
  throw new ProtocolError('VALIDATION_FAILED', 'bad frame');
});
app.get('/bug', () => {
  throw new TypeError('secret internals at db.ts:42');
});

describe('onApiError', () => {
  it('answers a coded error as problem+json with the catalogue status', async () => {
    const res = await app.request('/coded');
    expect([res.status, res.headers.get('content-type')]).toEqual([423, PROBLEM_CONTENT_TYPE]);
    expect(ProblemSchema.parse(await res.json())).toEqual({
      type: 'urn:crema:error:SALES_LOCKED',
      title: ErrorCodes.SALES_LOCKED.message,
      status: 423,
      detail: 'locked by the operator',
      code: 'SALES_LOCKED',
      instance: '/coded',
    });
  });

  it("keeps another package's coded error", async () => {
    const res = await app.request('/protocol');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'VALIDATION_FAILED', detail: 'bad frame' });
  });

  it('hides anything else behind INTERNAL, without its message', async () => {
    const res = await app.request('/bug');
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body).toMatchObject({ code: 'INTERNAL', detail: ErrorCodes.INTERNAL.message });
    expect(JSON.stringify(body)).not.toContain('secret');
  });
});
