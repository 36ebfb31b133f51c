import { FakeClock, makeEnvelope, type RecordEnvelope } from '@crema/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandService } from '../../src/commands/service';
import type { Db } from '../../src/db/connect';
import { FleetEvents } from '../../src/fleet/events';
import { AlarmService } from '../../src/operations/alarms/service';
import type { OpsEvent } from '../../src/operations/events/bus';
import { SigningKey } from '../../src/operations/recipes/signing-key';
import { Operations } from '../../src/operations/runtime';
import { BACKENDS, openTestDb, type TestDb } from '../support/db';
import { seedTenants, T0 } from './support/fixtures';

const m1 = { merchantId: 'm1' };

describe.each(BACKENDS)('operations runtime on %s', (kind) => {
  let store: TestDb;
  let db: Db;
  let timers: FakeClock;
  let ops: Operations;
  let fleet: FleetEvents;
  const published: OpsEvent[] = [];

  beforeAll(async () => {
    store = await openTestDb(kind);
    db = store.db;
    await seedTenants(db);
    timers = new FakeClock(T0);
    fleet = new FleetEvents();
    ops = new Operations({
      db: db.kysely,
      kind: db.kind,
      clock: timers,
      logger: pino({ level: 'silent' }),
      signingKey: SigningKey.generate(),
      fleetEvents: fleet,
      sweepIntervalMs: 60_000,
    });
    ops.bus.subscribe((e) => published.push(e));
    ops.start();
  });
  afterAll(async () => {
    await ops.stop();
    await store.cleanup();
  });

  const stored = (deviceId: string, envelope: RecordEnvelope) =>
    fleet.emit('stored', { records: [{ deviceId, merchantId: 'm1', envelope }] });

  it('applies command results that ingest stored and forwards them as live events', async () => {
    const svc = new CommandService(ops.ctx);
    const { commands } = await svc.create(
      m1,
      { userId: 'u' },
      { kind: 'diagnostics', target: { deviceIds: ['m1-dev-1'] } },
    );
    const id = commands[0]!.id;
    stored(
      'm1-dev-1',
      makeEnvelope(
        'command_result',
        { id: 'msg-1', deviceId: 'm1-dev-1', ts: timers.now() },
        {
          commandId: id,
          status: 'succeeded',
          output: { temp: 92 },
          at: timers.now(),
        },
      ),
    );
    await expect.poll(async () => (await svc.get(m1, id)).status).toBe('succeeded');
    expect(published.map((e) => e.type)).toContain('record.command_result');
  });

  it('completes a command whose result ingest stored but whose live apply never happened', async () => {
    const svc = new CommandService(ops.ctx);
    const { commands } = await svc.create(
      m1,
      { userId: 'u' },
      { kind: 'diagnostics', target: { deviceIds: ['m1-dev-1'] } },
    );
    const id = commands[0]!.id;
    // The result row as ingest commits it, without the 'stored' event (a busy database, a crash in between).
    await db.kysely
      .insertInto('command_results')
      .values({
        message_id: 'msg-lost-apply',
        device_id: 'm1-dev-1',
        merchant_id: 'm1',
        command_id: id,
        status: 'succeeded',
        code: null,
        message: null,
        output: JSON.stringify({ temp: 91 }),
        at: timers.now(),
        received_at: timers.now(),
      })
      .execute();
    expect((await svc.get(m1, id)).status).toBe('queued');
    await ops.sweep();
    expect(await svc.get(m1, id)).toMatchObject({ status: 'succeeded', result: { output: { temp: 91 } } });
  });

  it('turns stored alarms into operator alarms on the next sweep and expires commands on the timer', async () => {
    await db.kysely
      .insertInto('active_alarms')
      .values({
        device_id: 'm1-dev-2',
        merchant_id: 'm1',
        code: 'door_open',
        severity: 'warning',
        message: null,
        value: null,
        raised_at: timers.now(),
      })
      .execute();
    stored(
      'm1-dev-2',
      makeEnvelope(
        'alarm',
        { id: 'msg-2', deviceId: 'm1-dev-2', ts: timers.now() },
        {
          code: 'door_open',
          state: 'raised',
          severity: 'warning',
          at: timers.now(),
        },
      ),
    );
    // A stored alarm asks for a sweep soon (100 ms), long before the periodic one.
    await timers.advance(100);
    await ops.sweep();
    const alarms = await new AlarmService(ops.ctx).list(m1, { status: 'open' });
    expect(alarms.items.map((a) => a.code)).toEqual(['door_open']);
    expect(published.some((e) => e.type === 'alarm.raised' && e.merchantId === 'm1')).toBe(true);

    const svc = new CommandService(ops.ctx);
    const { commands } = await svc.create(
      m1,
      { userId: 'u' },
      { kind: 'unlock', ttlMs: 10_000, target: { deviceIds: ['m1-dev-3'] } },
    );
    // The periodic sweep (60 s after start) is past the command's 10 s time-to-live.
    await timers.advance(60_000);
    await expect.poll(async () => (await svc.get(m1, commands[0]!.id)).status).toBe('expired');
    await expect.poll(() => timers.pending()).toBeGreaterThan(0);
  });
});
