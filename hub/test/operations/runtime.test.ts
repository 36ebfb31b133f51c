import { makeEnvelope, type RecordEnvelope } from '@crema/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/config/clock';
import type { Db } from '../../src/db/connect';
import { FleetEvents } from '../../src/fleet/events';
import type { TimerClock } from '../../src/mqtt/clock';
import { AlarmService } from '../../src/operations/alarms/service';
import { CommandService } from '../../src/operations/commands/service';
import type { OpsEvent } from '../../src/operations/events/bus';
import { SigningKey } from '../../src/operations/recipes/signing-key';
import { Operations } from '../../src/operations/runtime';
import { BACKENDS, openTestDb, type TestDb } from '../support/db';
import { seedTenants, T0 } from './support/fixtures';

/** Timers that fire only when the test says so, on a manual clock. */
class FakeTimers implements TimerClock {
  readonly clock = new ManualClock(T0);
  private pending = new Map<number, { at: number; fn: () => void }>();
  private next = 0;
  now = () => this.clock.now();
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.pending.set(id, { at: this.clock.now() + ms, fn });
    return { id };
  };
  clearTimeout = (t: { id: unknown }) => {
    this.pending.delete(t.id as number);
  };
  /** Moves time and runs what fell due. */
  advance(ms: number): void {
    this.clock.advance(ms);
    for (const [id, t] of [...this.pending]) {
      if (t.at <= this.clock.now()) {
        this.pending.delete(id);
        t.fn();
      }
    }
  }
  get scheduled(): number {
    return this.pending.size;
  }
}

const m1 = { merchantId: 'm1' };

describe.each(BACKENDS)('operations runtime on %s', (kind) => {
  let store: TestDb;
  let db: Db;
  let timers: FakeTimers;
  let ops: Operations;
  let fleet: FleetEvents;
  const published: OpsEvent[] = [];

  beforeAll(async () => {
    store = await openTestDb(kind);
    db = store.db;
    await seedTenants(db);
    timers = new FakeTimers();
    fleet = new FleetEvents();
    ops = new Operations({
      db: db.kysely,
      kind: db.kind,
      clock: timers,
      logger: pino({ level: 'silent' }),
      signingKey: SigningKey.generate(),
      fleetEvents: fleet,
      sweepIntervalMs: 5000,
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
    timers.advance(100);
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
    timers.advance(10_000);
    await ops.sweep();
    expect((await svc.get(m1, commands[0]!.id)).status).toBe('expired');
    expect(timers.scheduled).toBeGreaterThan(0);
  });
});
