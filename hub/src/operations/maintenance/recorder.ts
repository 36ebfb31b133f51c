import type { MaintenanceReport } from '@crema/protocol';
import type { Insertable } from 'kysely';
import type { DeviceMaintenanceTable } from '../../db/tables/maintenance';
import type { OpsContext } from '../context';

/** Drink counts alone are written at most this often per machine; a status change is written at once. */
const REFRESH_MS = 60_000;

/**
 * Keeps `device_maintenance` up to date from heartbeats. A heartbeat comes every 30 s per machine, so a
 * report that only moved its drink counts is written at most once a minute; one that changed a status, the
 * lock or the running task, at once.
 */
export class MaintenanceRecorder {
  private readonly last = new Map<string, { key: string; at: number }>();

  constructor(private readonly ctx: OpsContext) {}

  /** Stores the report if it is worth a write; true when a status, the lock or the running task changed. */
  async record(
    deviceId: string,
    merchantId: string,
    at: number,
    report: MaintenanceReport,
  ): Promise<boolean> {
    const key = [
      report.rinse.status,
      report.descale.status,
      report.rinse.lastAt,
      report.descale.lastAt,
      report.rinse.overdueAt,
      report.descale.overdueAt,
      report.salesLocked,
      report.running,
    ].join('|');
    const prev = this.last.get(deviceId);
    const changed = prev?.key !== key;
    if (!changed && prev && at - prev.at < REFRESH_MS) return false;
    const row: Insertable<DeviceMaintenanceTable> = {
      device_id: deviceId,
      merchant_id: merchantId,
      reported_at: at,
      rinse_status: report.rinse.status,
      rinse_last_at: report.rinse.lastAt,
      rinse_drinks: report.rinse.drinksSince,
      rinse_overdue_at: report.rinse.overdueAt,
      descale_status: report.descale.status,
      descale_last_at: report.descale.lastAt,
      descale_drinks: report.descale.drinksSince,
      descale_overdue_at: report.descale.overdueAt,
      sales_locked: report.salesLocked ? 1 : 0,
      running: report.running,
    };
    const { device_id: _id, ...update } = row;
    await this.ctx.db
      .insertInto('device_maintenance')
      .values(row)
      .onConflict((oc) => oc.column('device_id').doUpdateSet(update))
      .execute();
    this.last.set(deviceId, { key, at });
    return changed;
  }
}
