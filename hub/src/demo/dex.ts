import { cumulativeCounters } from '../operations/dex/counters';
import { recordRead } from '../operations/dex/reads';
import type { DemoWorld } from './world';

const DAY = 86_400_000;

/**
 * Audit-counter history: every third machine was reset by its merchant admin a week ago and read by finance
 * yesterday; the next one was read two days ago. Each snapshot holds the counters as they stood then.
 */
export async function seedDexReads(world: DemoWorld): Promise<{ reads: number; resets: number }> {
  const { ctx, now } = world;
  let reads = 0;
  let resets = 0;
  for (const merchant of world.merchants) {
    for (const [i, deviceId] of merchant.devices.entries()) {
      const plan: {
        kind: 'read' | 'reset';
        at: number;
        by: DemoWorld['merchants'][number]['staff']['finance'];
      }[] =
        i % 3 === 0
          ? [
              { kind: 'reset', at: now - 7 * DAY, by: merchant.staff.merchant_admin },
              { kind: 'read', at: now - DAY, by: merchant.staff.finance },
            ]
          : i % 3 === 1
            ? [{ kind: 'read', at: now - 2 * DAY, by: merchant.staff.finance }]
            : [];
      for (const step of plan) {
        const counters = (await cumulativeCounters(ctx, [deviceId], step.at)).get(deviceId);
        if (!counters) continue;
        const read = await recordRead(ctx, {
          merchantId: merchant.id,
          deviceId,
          kind: step.kind,
          counters,
          createdBy: step.by.userId,
          at: step.at,
        });
        await world.audit.record(ctx.db, {
          actor: step.by,
          ip: '127.0.0.1',
          action: `dex.${step.kind}`,
          targetType: 'device',
          targetId: deviceId,
          merchantId: merchant.id,
          after: { read },
        });
        if (step.kind === 'reset') resets++;
        else reads++;
      }
    }
  }
  return { reads, resets };
}
