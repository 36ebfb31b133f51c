import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import { HubError } from '../../src/errors';
import { syncDeviceAlarms } from '../../src/operations/alarms/device-sync';
import { AlarmService } from '../../src/operations/alarms/service';
import { ALL_MERCHANTS, type OpsContext } from '../../src/operations/context';
import { WorkOrderService } from '../../src/operations/workorders/service';
import { BACKENDS as backends, openTestDb, type TestDb } from '../support/db';
import { seedTenants, T0, testContext } from './support/fixtures';

const m1 = { merchantId: 'm1' };
const m2 = { merchantId: 'm2' };
const alice = { userId: 'alice' };

async function addUser(
  db: Db,
  id: string,
  merchantId: string | null,
  role: string,
  name: string | null = null,
) {
  await db.kysely
    .insertInto('users')
    .values({
      id,
      merchant_id: merchantId,
      email: `${id}@example.test`,
      name,
      role,
      password_hash: 'x',
      password_changed_at: T0,
      created_at: T0,
      updated_at: T0,
    })
    .execute();
}

describe.each(backends)('work orders on %s', (kind) => {
  let store: TestDb;
  let db: Db;
  let ctx: OpsContext;
  let svc: WorkOrderService;

  beforeAll(async () => {
    store = await openTestDb(kind);
    db = store.db;
    await seedTenants(db);
    await addUser(db, 'bob', 'm1', 'ops_engineer', 'Bob Fixit');
    await addUser(db, 'carol', 'm1', 'merchant_admin');
    await addUser(db, 'vic', 'm1', 'viewer');
    await addUser(db, 'fin', 'm1', 'finance');
    await addUser(db, 'otto', 'm2', 'ops_engineer');
    await addUser(db, 'root', null, 'superadmin');
    ctx = testContext(db).ctx;
    svc = new WorkOrderService(ctx);
  });
  afterAll(() => store.cleanup());

  it('walks open → assigned → in_progress → resolved → closed with a history', async () => {
    const wo = await svc.create(m1, alice, { deviceId: 'm1-dev-1', title: 'grinder noisy' });
    expect(wo.status).toBe('open');
    await svc.assign(m1, alice, wo.id, { assigneeId: 'bob' });
    await svc.transition(m1, alice, wo.id, 'in_progress');
    await svc.comment(m1, { userId: 'bob' }, wo.id, 'burrs replaced');
    await svc.transition(m1, alice, wo.id, 'resolved');
    const closed = await svc.transition(m1, alice, wo.id, 'closed');
    expect(closed.before.status).toBe('resolved');
    expect(closed.after.status).toBe('closed');
    expect(closed.alarm).toBeUndefined();
    const full = await svc.get(m1, wo.id);
    expect(full).toMatchObject({
      assigneeId: 'bob',
      assignee: 'bob@example.test',
      assigneeName: 'Bob Fixit',
    });
    expect(full.events.map((e) => e.kind)).toEqual([
      'transition',
      'transition',
      'comment',
      'transition',
      'transition',
    ]);
    expect(full.events[0]).toMatchObject({ toStatus: 'assigned', assigneeId: 'bob' });
  });

  it('refuses an invalid transition with INVALID_TRANSITION and changes nothing', async () => {
    const wo = await svc.create(m1, alice, { deviceId: 'm1-dev-2', title: 'leak' });
    await expect(svc.transition(m1, alice, wo.id, 'closed')).rejects.toMatchObject({
      code: 'INVALID_TRANSITION',
    });
    await expect(svc.transition(m1, alice, wo.id, 'in_progress')).rejects.toBeInstanceOf(HubError);
    expect((await svc.get(m1, wo.id)).status).toBe('open');
    await expect(svc.transition(m1, alice, wo.id, 'assigned')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('takes as assignee only a user of the merchant whose role may handle work orders', async () => {
    const wo = await svc.create(m1, alice, { title: 'fridge' });
    for (const ref of [
      { assigneeId: 'nobody' },
      { assigneeId: 'otto' }, // another merchant's engineer
      { assigneeId: 'vic' }, // a viewer
      { assigneeId: 'fin' },
      { assigneeId: 'root' }, // the platform admin belongs to no merchant
      { assignee: 'otto@example.test' },
    ]) {
      await expect(svc.assign(m1, alice, wo.id, ref)).rejects.toMatchObject({ code: 'ASSIGNEE_INVALID' });
    }
    expect((await svc.get(m1, wo.id)).status).toBe('open');
    const byEmail = await svc.assign(m1, alice, wo.id, { assignee: ' Carol@Example.test ' });
    expect(byEmail.after).toMatchObject({
      status: 'assigned',
      assigneeId: 'carol',
      assignee: 'carol@example.test',
    });
    const created = await svc.create(m1, alice, { title: 'x', assigneeId: 'bob' });
    expect(created).toMatchObject({ status: 'assigned', assigneeId: 'bob', assigneeName: 'Bob Fixit' });
    await expect(svc.create(m1, alice, { title: 'x', assigneeId: 'vic' })).rejects.toMatchObject({
      code: 'ASSIGNEE_INVALID',
    });
  });

  it('keeps merchants apart: another merchant gets NOT_FOUND and an empty list', async () => {
    const wo = await svc.create(m1, alice, { title: 'restock plan' });
    await expect(svc.get(m2, wo.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(svc.transition(m2, alice, wo.id, 'assigned', { assigneeId: 'otto' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(svc.create(m2, alice, { deviceId: 'm1-dev-1', title: 'x' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await svc.list(m2, {})).total).toBe(0);
    expect((await svc.list(m1, {})).total).toBeGreaterThanOrEqual(3);
    expect((await svc.list(ALL_MERCHANTS, {})).total).toBe((await svc.list(m1, {})).total);
  });

  it('filters by status and assignee id', async () => {
    const list = await svc.list(m1, { status: 'closed' });
    expect(list.items.every((w) => w.status === 'closed')).toBe(true);
    const bobs = await svc.list(m1, { assigneeId: 'bob' });
    expect(bobs.items.length).toBe(2);
    expect(bobs.items.every((w) => w.assigneeId === 'bob' && w.assignee === 'bob@example.test')).toBe(true);
    expect((await svc.list(m2, { assigneeId: 'bob' })).total).toBe(0);
  });

  it('resolving clears the alarm once the machine stopped reporting it, else says why it stays', async () => {
    const alarms = new AlarmService(ctx);
    const report = (device: string, code: string) =>
      db.kysely
        .insertInto('active_alarms')
        .values({
          device_id: device,
          merchant_id: 'm1',
          code,
          severity: 'critical',
          message: null,
          value: null,
          raised_at: T0,
        })
        .execute();
    await report('m1-dev-3', 'grinder_jam');
    await report('m1-dev-3', 'boiler_fault');
    await syncDeviceAlarms(ctx);
    const open = await alarms.list(m1, { status: 'open', deviceId: 'm1-dev-3' });
    const jam = open.items.find((a) => a.code === 'grinder_jam');
    const boiler = open.items.find((a) => a.code === 'boiler_fault');
    if (!jam || !boiler) throw new Error('alarms not raised');

    const walk = async (alarmId: string) => {
      const wo = await svc.create(m1, alice, { alarmId, assigneeId: 'bob' });
      await svc.transition(m1, alice, wo.id, 'in_progress');
      return { wo, resolved: await svc.transition(m1, alice, wo.id, 'resolved') };
    };
    // Still reported by the machine: the order resolves, the alarm stays, and the answer says why.
    const live = await walk(jam.id);
    expect(live.resolved.after.status).toBe('resolved');
    expect(live.resolved.alarm).toMatchObject({ result: 'kept', reason: 'DEVICE_STILL_REPORTS' });
    expect((await alarms.get(m1, jam.id)).status).toBe('raised');
    const history = (await svc.get(m1, live.wo.id)).events.at(-1);
    expect(history).toMatchObject({ kind: 'alarm', code: 'DEVICE_STILL_REPORTS' });

    // The machine stopped reporting it (the sweep has not run yet): resolving clears it.
    await db.kysely
      .deleteFrom('active_alarms')
      .where('device_id', '=', 'm1-dev-3')
      .where('code', '=', 'boiler_fault')
      .execute();
    const gone = await walk(boiler.id);
    expect(gone.resolved.alarm).toMatchObject({ result: 'cleared', reason: null });
    expect(await alarms.get(m1, boiler.id)).toMatchObject({ status: 'cleared', clearedBy: 'alice' });
    expect((await svc.get(m1, gone.wo.id)).events.at(-1)).toMatchObject({
      kind: 'alarm',
      code: 'ALARM_CLEARED',
    });

    // Closing tries again: the jam is fixed now, so closing clears it; a cleared alarm is left alone.
    await db.kysely.deleteFrom('active_alarms').where('device_id', '=', 'm1-dev-3').execute();
    const closed = await svc.transition(m1, alice, live.wo.id, 'closed');
    expect(closed.alarm).toMatchObject({ result: 'cleared' });
    expect((await svc.transition(m1, alice, gone.wo.id, 'closed')).alarm).toMatchObject({
      result: 'already_cleared',
    });
    // The sweep does not raise it again: the machine no longer reports it.
    expect((await syncDeviceAlarms(ctx)).raised).toEqual([]);
  });

  it('explains a stock alarm that stays while the bin is still low', async () => {
    const { alarm } = await new AlarmService(ctx).raise({
      merchantId: 'm1',
      deviceId: 'm1-dev-1',
      code: 'beans_low',
      severity: 'warning',
      source: 'materials',
      at: T0,
    });
    const wo = await svc.create(m1, alice, { alarmId: alarm.id, assigneeId: 'carol' });
    await svc.transition(m1, alice, wo.id, 'in_progress');
    const r = await svc.transition(m1, alice, wo.id, 'resolved');
    expect(r.alarm).toMatchObject({ result: 'kept', reason: 'STOCK_STILL_LOW' });
  });

  it("releases a user's work orders: assigned ones reopen, others keep their status", async () => {
    await addUser(db, 'dave', 'm1', 'ops_engineer');
    const a = await svc.create(m1, alice, { title: 'a', assigneeId: 'dave' });
    const b = await svc.create(m1, alice, { title: 'b', assigneeId: 'dave' });
    await svc.transition(m1, alice, b.id, 'in_progress');
    const c = await svc.create(m1, alice, { title: 'c', assigneeId: 'dave' });
    await svc.transition(m1, alice, c.id, 'in_progress');
    await svc.transition(m1, alice, c.id, 'resolved');
    await svc.transition(m1, alice, c.id, 'closed');
    const demoted = await svc.releaseAssignments(alice, 'dave', 'ASSIGNEE_ROLE_CHANGED');
    expect(demoted.map((r) => [r.after.title, r.after.status, r.after.assigneeId]).sort()).toEqual([
      ['a', 'open', null],
      ['b', 'in_progress', null],
    ]);
    expect((await svc.get(m1, c.id)).assigneeId).toBe('dave');
    expect((await svc.get(m1, a.id)).events.at(-1)).toMatchObject({
      kind: 'assign',
      code: 'ASSIGNEE_ROLE_CHANGED',
      body: 'dave@example.test',
    });
    const deleted = await svc.releaseAssignments(alice, 'dave', 'ASSIGNEE_DELETED');
    expect(deleted.map((r) => r.after.title)).toEqual(['c']);
    expect((await svc.get(m1, c.id)).status).toBe('closed');
  });
});
