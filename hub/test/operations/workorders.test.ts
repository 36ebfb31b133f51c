import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect';
import { HubError } from '../../src/errors';
import { ALL_MERCHANTS } from '../../src/operations/context';
import { WorkOrderService } from '../../src/operations/workorders/service';
import { BACKENDS as backends, openTestDb, type TestDb } from '../support/db';
import { seedTenants, testContext } from './support/fixtures';

const m1 = { merchantId: 'm1' };
const m2 = { merchantId: 'm2' };
const alice = { userId: 'alice' };

describe.each(backends)('work orders on %s', (kind) => {
  let store: TestDb;
  let db: Db;
  let svc: WorkOrderService;

  beforeAll(async () => {
    store = await openTestDb(kind);
    db = store.db;
    await seedTenants(db);
    svc = new WorkOrderService(testContext(db).ctx);
  });
  afterAll(() => store.cleanup());

  it('walks open → assigned → in_progress → resolved → closed with a history', async () => {
    const wo = await svc.create(m1, alice, { deviceId: 'm1-dev-1', title: 'grinder noisy' });
    expect(wo.status).toBe('open');
    await svc.assign(m1, alice, wo.id, 'bob');
    await svc.transition(m1, alice, wo.id, 'in_progress');
    await svc.comment(m1, { userId: 'bob' }, wo.id, 'burrs replaced');
    await svc.transition(m1, alice, wo.id, 'resolved');
    const closed = await svc.transition(m1, alice, wo.id, 'closed');
    expect(closed.before.status).toBe('resolved');
    expect(closed.after.status).toBe('closed');
    const full = await svc.get(m1, wo.id);
    expect(full.assignee).toBe('bob');
    expect(full.events.map((e) => e.kind)).toEqual([
      'transition',
      'transition',
      'comment',
      'transition',
      'transition',
    ]);
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

  it('keeps merchants apart: another merchant gets NOT_FOUND and an empty list', async () => {
    const wo = await svc.create(m1, alice, { title: 'restock plan' });
    await expect(svc.get(m2, wo.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(svc.transition(m2, alice, wo.id, 'assigned', { assignee: 'x' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(svc.create(m2, alice, { deviceId: 'm1-dev-1', title: 'x' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await svc.list(m2, {})).total).toBe(0);
    expect((await svc.list(m1, {})).total).toBeGreaterThanOrEqual(3);
    expect((await svc.list(ALL_MERCHANTS, {})).total).toBe((await svc.list(m1, {})).total);
  });

  it('filters by status and assignee', async () => {
    const list = await svc.list(m1, { status: 'closed' });
    expect(list.items.every((w) => w.status === 'closed')).toBe(true);
    expect((await svc.list(m1, { assignee: 'bob' })).items.length).toBe(1);
  });
});
