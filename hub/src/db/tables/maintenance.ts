/** A machine's cleaning compliance from its last heartbeat that carried it (migration 0020). */
export interface DeviceMaintenanceTable {
  device_id: string;
  merchant_id: string;
  reported_at: number;
  /** ok | due | overdue, as the machine counts it against its policy. */
  rinse_status: string;
  rinse_last_at: number | null;
  rinse_drinks: number;
  /** When the time limit plus grace runs out (null: no time limit). */
  rinse_overdue_at: number | null;
  descale_status: string;
  descale_last_at: number | null;
  descale_drinks: number;
  descale_overdue_at: number | null;
  /** 1 while the machine refuses sales because a task is overdue. */
  sales_locked: number;
  /** rinse | descale while one runs. */
  running: string | null;
}

export interface MaintenanceTables {
  device_maintenance: DeviceMaintenanceTable;
}
