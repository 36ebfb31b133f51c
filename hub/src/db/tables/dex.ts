/** A read or reset of a machine's audit counters (migration 0019). */
export interface DexReadsTable {
  id: string;
  merchant_id: string;
  device_id: string;
  /** `read` (starts the next interval) or `reset` (also restarts the "since reset" counters). */
  kind: string;
  /** JSON of the cumulative counters at that moment (CounterTotals). */
  counters: string;
  created_by: string;
  created_at: number;
}

export interface DexTables {
  dex_reads: DexReadsTable;
}
