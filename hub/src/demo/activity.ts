import { CommandDelivery } from '../commands/delivery';
import { CommandService } from '../commands/service';
import { RecipeService } from '../operations/recipes/service';
import type { SigningKey } from '../operations/recipes/signing-key';
import { WorkOrderService } from '../operations/workorders/service';
import type { WorkOrderStatus } from '../operations/workorders/state';
import type { ArtifactStore } from '../updates/artifacts/store';
import { seedAttachments } from './attachments';
import { demoMenu } from './recipes';
import type { DemoWorld } from './world';

const PATH: WorkOrderStatus[] = ['assigned', 'in_progress', 'resolved', 'closed'];

/**
 * What staff did: work orders for most open alarms (at every stage), command batches in every state, and a
 * signed menu rolled out to each merchant's first location; each action in the audit log.
 */
export async function seedActivity(
  world: DemoWorld,
  key: SigningKey,
  attachments?: ArtifactStore,
): Promise<{ workOrders: number; commands: number; recipeSets: number; attachments: number }> {
  const { ctx, rng } = world;
  const workOrders = new WorkOrderService(ctx);
  const commands = new CommandService(ctx);
  const delivery = new CommandDelivery(ctx);
  const recipes = new RecipeService(ctx, key);
  let woCount = 0;
  let cmdCount = 0;
  let attachmentCount = 0;
  const audit = (
    actor: DemoWorld['merchants'][number]['staff']['ops_engineer'],
    action: string,
    targetType: string,
    targetId: string,
    after: unknown,
  ) =>
    world.audit.record(ctx.db, {
      actor,
      ip: '127.0.0.1',
      action,
      targetType,
      targetId,
      merchantId: actor.merchantId,
      after,
    });

  for (const merchant of world.merchants) {
    const scope = { merchantId: merchant.id };
    const ops = merchant.staff.ops_engineer;
    const admin = merchant.staff.merchant_admin;
    // Assignees are the merchant's own people who may handle work orders.
    const handlers = [ops, admin];
    const touched: { id: string; userId: string }[] = [];
    const open = await ctx.db
      .selectFrom('ops_alarms')
      .select('id')
      .where('merchant_id', '=', merchant.id)
      .where('status', '=', 'raised')
      .execute();
    for (const alarm of open) {
      if (!rng.chance(0.6)) continue;
      const wo = await workOrders.create(
        scope,
        { userId: ops.userId },
        { alarmId: alarm.id, priority: rng.pick(['normal', 'high', 'urgent']) },
      );
      await audit(ops, 'workorder.create', 'work_order', wo.id, wo);
      const steps = rng.int(0, PATH.length);
      for (const to of PATH.slice(0, steps)) {
        const r = await workOrders.transition(
          scope,
          { userId: ops.userId },
          wo.id,
          to,
          to === 'assigned' ? { assigneeId: rng.pick(handlers).userId } : {},
        );
        await audit(ops, `workorder.${to}`, 'work_order', wo.id, r.after);
        if (to === 'in_progress')
          await workOrders.comment(scope, { userId: ops.userId }, wo.id, 'On site, checking the machine');
      }
      // Under way or resolved (a closed order takes no attachments).
      if (steps >= 2 && steps < PATH.length) touched.push({ id: wo.id, userId: ops.userId });
      woCount++;
    }
    if (attachments) attachmentCount += await seedAttachments(world, attachments, touched);

    const location = merchant.locations[0];
    if (location) {
      const rinse = await commands.create(
        scope,
        { userId: ops.userId },
        { kind: 'rinse', params: { cycles: 2 }, target: { locationId: location } },
      );
      await audit(ops, 'command.create', 'command_batch', rinse.batch.id, {
        kind: 'rinse',
        target: { locationId: location },
      });
      for (const c of rinse.commands) {
        const outcome = rng.weighted([
          ['succeeded', 6],
          ['failed', 2],
          ['queued', 2],
        ] as const);
        if (outcome === 'queued') continue;
        await delivery.markDelivered([c.id]);
        await delivery.applyProgress(c.deviceId, { commandId: c.id, status: 'executing', at: world.now });
        await delivery.applyResult(c.deviceId, {
          commandId: c.id,
          status: outcome,
          ...(outcome === 'failed' ? { code: 'DOOR_OPEN' } : {}),
          at: world.now,
        });
      }
      cmdCount += rinse.commands.length;
    }
    const diag = await commands.create(
      scope,
      { userId: admin.userId },
      { kind: 'diagnostics', target: { merchantId: merchant.id } },
    );
    await audit(admin, 'command.create', 'command_batch', diag.batch.id, {
      kind: 'diagnostics',
      target: { merchantId: merchant.id },
    });
    cmdCount += diag.commands.length;

    const set = await recipes.create(scope, { userId: admin.userId }, demoMenu());
    await audit(admin, 'recipe_set.create', 'recipe_set', set.id, {
      version: set.version,
      sha256: set.sha256,
    });
    if (location) {
      const { assignment: a } = await recipes.assign(scope, { userId: admin.userId }, set.id, {
        locationId: location,
      });
      await audit(admin, 'recipe_set.assign', 'recipe_set', set.id, a);
      cmdCount += Object.values(a.rollout).reduce((s, n) => s + (n ?? 0), 0);
    }
  }
  return {
    workOrders: woCount,
    commands: cmdCount,
    recipeSets: world.merchants.length,
    attachments: attachmentCount,
  };
}
