import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApi, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';
import { ApiSeed } from './support/api-seed';

describe.each(BACKENDS)('work-order assignees and alarms over HTTP on %s', (backend) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await createTestApi(backend);
  });
  afterAll(async () => {
    await t?.cleanup();
  });
  const admin = () => t.fx.usersA.merchant_admin;
  const create = async (body: object) => {
    const res = await t.request('POST', '/api/v1/work-orders', {
      token: admin().token,
      body: { title: 'x', ...body },
    });
    return { status: res.status, body: await res.json() };
  };

  it("lists the merchant's users who may handle work orders, and assigns only them", async () => {
    const res = await t.request('GET', '/api/v1/work-orders/assignees', {
      token: t.fx.usersA.ops_engineer.token,
    });
    const ids = (await res.json()).items.map((u: { id: string }) => u.id);
    expect(ids).toContain(t.fx.usersA.ops_engineer.id);
    expect(ids).toContain(admin().id);
    for (const u of [t.fx.usersA.viewer, t.fx.usersA.finance, t.fx.usersB.ops_engineer, t.fx.superadmin])
      expect(ids).not.toContain(u.id);
    const forB = await t.request('GET', `/api/v1/work-orders/assignees?merchantId=${t.fx.merchantB}`, {
      token: t.fx.superadmin.token,
    });
    expect((await forB.json()).items.map((u: { merchantId: string }) => u.merchantId)).toEqual(
      expect.arrayContaining([t.fx.merchantB]),
    );

    const ok = await create({ assigneeId: t.fx.usersA.ops_engineer.id });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({
      status: 'assigned',
      assigneeId: t.fx.usersA.ops_engineer.id,
      assignee: t.fx.usersA.ops_engineer.email,
      assigneeName: 'ops_engineer',
    });
    for (const bad of [
      { assigneeId: t.fx.usersB.ops_engineer.id },
      { assigneeId: t.fx.usersA.viewer.id },
      { assignee: 'free text' },
    ]) {
      const r = await create(bad);
      expect(r.status, JSON.stringify(r.body)).toBe(bad.assignee ? 400 : 422);
      if (!bad.assignee) expect(r.body.code).toBe('ASSIGNEE_INVALID');
    }
    const byEmail = await t.request('POST', `/api/v1/work-orders/${(await create({})).body.id}/assign`, {
      token: admin().token,
      body: { assignee: admin().email },
    });
    expect((await byEmail.json()).assigneeId).toBe(admin().id);
    const filtered = await t.request('GET', `/api/v1/work-orders?assigneeId=${t.fx.usersA.ops_engineer.id}`, {
      token: t.fx.usersA.viewer.token,
    });
    expect((await filtered.json()).items.map((w: { id: string }) => w.id)).toEqual([ok.body.id]);
  });

  it('a deleted or demoted user leaves their unfinished work orders unassigned (audited), not refused', async () => {
    const tech = await t.addUser('ops_engineer', t.fx.merchantA);
    const other = await t.addUser('ops_engineer', t.fx.merchantA);
    const a = (await create({ assigneeId: tech.id })).body;
    const b = (await create({ assigneeId: other.id })).body;
    const demote = await t.request('PATCH', `/api/v1/users/${tech.id}`, {
      token: admin().token,
      body: { role: 'viewer' },
    });
    expect(demote.status).toBe(200);
    const afterDemote = await (
      await t.request('GET', `/api/v1/work-orders/${a.id}`, { token: admin().token })
    ).json();
    expect(afterDemote).toMatchObject({ status: 'open', assigneeId: null, assignee: null });
    expect(afterDemote.events.at(-1)).toMatchObject({
      kind: 'assign',
      code: 'ASSIGNEE_ROLE_CHANGED',
      body: tech.email,
    });
    const del = await t.request('DELETE', `/api/v1/users/${other.id}`, { token: admin().token });
    expect(del.status).toBe(204);
    const afterDelete = await (
      await t.request('GET', `/api/v1/work-orders/${b.id}`, { token: admin().token })
    ).json();
    expect(afterDelete).toMatchObject({ status: 'open', assigneeId: null });
    expect(afterDelete.events.at(-1)).toMatchObject({ code: 'ASSIGNEE_DELETED', body: other.email });
    const audit = await t.deps.db.kysely
      .selectFrom('audit_log')
      .select('target_id')
      .where('action', '=', 'workorder.unassign')
      .execute();
    expect(audit.map((r) => r.target_id).sort()).toEqual([a.id, b.id].sort());
  });

  it('resolving answers whether the alarm was cleared, or why it stays', async () => {
    const seed = new ApiSeed(t);
    const { id: alarmId, deviceId } = await seed.alarm(t.fx.merchantA);
    const db = t.deps.db.kysely;
    await db
      .insertInto('active_alarms')
      .values({
        device_id: deviceId,
        merchant_id: t.fx.merchantA,
        code: 'grinder_jam',
        severity: 'critical',
        message: null,
        value: null,
        raised_at: t.clock.now(),
      })
      .execute();
    const wo = (await create({ alarmId, assigneeId: admin().id })).body;
    const move = async (to: string) =>
      (
        await t.request('POST', `/api/v1/work-orders/${wo.id}/transition`, {
          token: admin().token,
          body: { to },
        })
      ).json();
    await move('in_progress');
    const kept = await move('resolved');
    expect(kept).toMatchObject({
      status: 'resolved',
      alarmFollowUp: { result: 'kept', reason: 'DEVICE_STILL_REPORTS' },
    });
    expect(kept.alarmFollowUp.message).toContain('grinder_jam');
    await db.deleteFrom('active_alarms').where('device_id', '=', deviceId).execute();
    const closed = await move('closed');
    expect(closed).toMatchObject({
      status: 'closed',
      alarmFollowUp: { result: 'cleared', alarm: { status: 'cleared' } },
    });
    const audit = await db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', alarmId)
      .execute();
    expect(audit.map((r) => r.action)).toEqual(['alarm.clear']);
  });
});
