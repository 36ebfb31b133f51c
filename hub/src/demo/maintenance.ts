import type { Insertable } from 'kysely';
import type { DeviceMaintenanceTable } from '../db/tables/maintenance';
import { syncMaintenanceAlarms } from '../operations/maintenance/alarm-sync';
import { type DemoWorld, insertChunks } from './world';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Cleaning compliance for every demo machine as its last heartbeat would have carried it: most rinsed today
 * and descaled this month, some due, a few overdue (some of those with sales locked), then the overdue
 * alarms the hub raises for them. Returns how many machines are overdue.
 */
export async function seedMaintenance(world: DemoWorld): Promise<number> {
  const { rng, now } = world;
  const rows: Insertable<DeviceMaintenanceTable>[] = [];
  let overdue = 0;
  for (const merchant of world.merchants) {
    for (const deviceId of merchant.devices) {
      const rinseLate = rng.chance(0.08);
      // The first machine is always overdue and locked, so even a tiny demo shows the case.
      const first = deviceId === world.merchants[0]?.devices[0];
      const descaleLate = first || rng.chance(0.1);
      const rinseAgo = rinseLate ? rng.int(29, 60) * HOUR : rng.int(1, 20) * HOUR;
      const descaleAgo = descaleLate ? rng.int(38, 60) * DAY : rng.int(1, 28) * DAY;
      const rinseDrinks = rinseLate ? rng.int(121, 220) : rng.int(0, 90);
      const descaleDrinks = descaleLate ? rng.int(5500, 7000) : rng.int(200, 4800);
      if (rinseLate || descaleLate) overdue++;
      rows.push({
        device_id: deviceId,
        merchant_id: merchant.id,
        reported_at: now - rng.int(5, 300) * 1000,
        rinse_status: rinseLate ? 'overdue' : rinseDrinks >= 100 ? 'due' : 'ok',
        rinse_last_at: now - rinseAgo,
        rinse_drinks: rinseDrinks,
        rinse_overdue_at: now - rinseAgo + 28 * HOUR,
        descale_status: descaleLate ? 'overdue' : descaleAgo >= 30 * DAY ? 'due' : 'ok',
        descale_last_at: now - descaleAgo,
        descale_drinks: descaleDrinks,
        descale_overdue_at: now - descaleAgo + 37 * DAY,
        sales_locked: first || (descaleLate && rng.chance(0.3)) ? 1 : 0,
        running: null,
      });
    }
  }
  await insertChunks(world.ctx, 'device_maintenance', rows);
  await syncMaintenanceAlarms(world.ctx);
  return overdue;
}
