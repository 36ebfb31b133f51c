import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock, problemOf } from '@crema/protocol';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubEnrolment, requestClaim } from './claim';
import { credentialPath, readCredential } from './credential-file';

const CODE = '7K3M-QX2A-9PZR-D4HT';
const request = { httpUrl: 'http://hub.test', code: CODE, deviceId: 'cm-unit-0001', model: 'cm-1' };
const answer = {
  deviceId: 'cm-unit-0001',
  credential: 'a-fresh-credential-0123456789',
  merchantId: 'm1',
  locationId: 'l1',
};
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

/** A logger whose lines the test reads. */
function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('claiming the hub credential', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crema-claim-unit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('sends the canonical code and carries the hub’s refusal code', async () => {
    const sent: unknown[] = [];
    const fetch = (async (_url: unknown, init?: RequestInit) => {
      sent.push(JSON.parse(String(init?.body)));
      return json(403, problemOf('CLAIM_CODE_INVALID'));
    }) as typeof globalThis.fetch;
    await expect(requestClaim({ ...request, code: '7k3m qx2a 9pzr d4ht', fetch })).rejects.toMatchObject({
      code: 'CLAIM_CODE_INVALID',
    });
    expect(sent).toEqual([{ code: '7K3MQX2A9PZRD4HT', deviceId: 'cm-unit-0001', model: 'cm-1' }]);
  });

  it('retries a refused claim with backoff, logging the code, then stores the credential 0600 before handing it on', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const { logger, lines } = recordingLogger();
    const answers = [
      json(403, problemOf('CLAIM_CODE_INVALID')),
      json(429, problemOf('RATE_LIMITED'), { 'retry-after': '120' }),
      json(201, answer),
    ];
    let calls = 0;
    const fetch = (async () => {
      calls++;
      const next = answers.shift();
      if (!next) throw new Error('no more answers');
      return next;
    }) as typeof globalThis.fetch;
    const file = credentialPath(dir);
    const handed: { credential: string; fileThen: boolean }[] = [];
    const enrolment = new HubEnrolment({
      request: { ...request, fetch },
      file,
      clock,
      logger,
      onCredential: (credential) => handed.push({ credential, fileThen: existsSync(file) }),
      backoff: { initialMs: 1_000, maxMs: 10_000 },
    });
    enrolment.start();
    await clock.advance(0);
    await waitUntil(() => calls === 1 && lines.length === 1);
    expect(lines[0]).toMatchObject({ level: 50, code: 'CLAIM_CODE_INVALID' });
    expect(String(lines[0]?.msg)).toContain('claim refused: CLAIM_CODE_INVALID');
    await clock.advance(1_000);
    await waitUntil(() => calls === 2 && lines.length === 2);
    // The hub's Retry-After outweighs the backoff.
    expect(lines[1]).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(lines[1]?.retryInMs)).toBeGreaterThanOrEqual(120_000);
    await clock.advance(60_000);
    expect(calls).toBe(2);
    await clock.advance(60_000);
    await waitUntil(() => handed.length === 1);
    expect(handed).toEqual([{ credential: answer.credential, fileThen: true }]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readCredential(file)).toMatchObject({ deviceId: 'cm-unit-0001', credential: answer.credential });
    expect(readFileSync(file, 'utf8')).not.toContain(CODE);
    enrolment.stop();
  });
});

async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}
