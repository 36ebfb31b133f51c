import type { ColumnType } from 'kysely';

/**
 * Tables of the operations API: money after the sale (refunds), stock (catalog, bins, restocks), repairs
 * (work orders), remote control (commands) and what machines sell (recipe sets and their assignment).
 * Same conventions as the core: epoch-ms integers, 0/1 booleans, JSON as text, text ids (ULIDs).
 * Every row carries `merchant_id` so each query can be scoped to the caller's tenant.
 */
export interface RefundsTable {
  id: string;
  merchant_id: string;
  order_id: string;
  device_id: string;
  amount: number;
  currency: string;
  reason: string;
  created_by: string;
  created_at: number;
}

export interface MaterialCatalogTable {
  id: string;
  merchant_id: string;
  sku: string;
  name: string;
  /** The material code the item is (`beans`, `oat_milk`); bins are bound to these codes. */
  material: string;
  unit: string;
  pack_size: number;
  created_at: number;
  updated_at: number;
}

export interface MaterialBinsTable {
  id: string;
  merchant_id: string;
  device_id: string;
  /** Bin number on the machine (1 to 5 are the default kinds). */
  bin: number;
  /** The material code bound to the bin; unique per machine. */
  material: string;
  unit: string;
  catalog_id: string | null;
  capacity: number;
  level: number;
  low_threshold: number;
  high_threshold: number;
  /** When the level was last reported or set. */
  level_at: number;
  /** Set while the level sits at or below the low threshold; the low-stock alarm is open meanwhile. */
  low_since: number | null;
  updated_at: number;
}

export interface RestocksTable {
  id: string;
  merchant_id: string;
  device_id: string;
  bin_id: string;
  material: string;
  quantity: number;
  level_before: number;
  level_after: number;
  note: string | null;
  created_by: string;
  created_at: number;
}

export interface OpsAlarmsTable {
  id: string;
  merchant_id: string;
  device_id: string;
  code: string;
  severity: string;
  /** raised → acknowledged → cleared; a cleared alarm is history. */
  status: string;
  source: string;
  message: string | null;
  value: number | null;
  raised_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  cleared_at: number | null;
  cleared_by: string | null;
}

export interface WorkOrdersTable {
  id: string;
  merchant_id: string;
  device_id: string | null;
  alarm_id: string | null;
  title: string;
  description: string | null;
  priority: string;
  status: string;
  /** A user of the same merchant whose role may handle work orders (migration 0018; was free text). */
  assignee_id: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface WorkOrderEventsTable {
  id: string;
  work_order_id: string;
  merchant_id: string;
  /** comment, transition, assign or alarm */
  kind: string;
  from_status: string | null;
  to_status: string | null;
  body: string | null;
  /** Machine-readable reason (migration 0018), e.g. why an alarm stayed or why an assignee was dropped. */
  code: ColumnType<string | null, string | null | undefined, string | null>;
  /** Who was assigned (assign events since migration 0018). */
  assignee_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_by: string;
  created_at: number;
}

export interface CommandBatchesTable {
  id: string;
  merchant_id: string | null;
  kind: string;
  params: string;
  /** JSON of how devices were chosen: { devices } | { locationId } | { merchantId }. */
  target: string;
  ttl_ms: number;
  created_by: string;
  created_at: number;
}

export interface CommandsTable {
  id: string;
  merchant_id: string;
  device_id: string;
  batch_id: string | null;
  kind: string;
  params: string;
  idempotency_key: string;
  status: string;
  issued_at: number;
  expires_at: number;
  delivered_at: number | null;
  finished_at: number | null;
  updated_at: number;
  result_code: string | null;
  result_message: string | null;
  output: string | null;
  /** The failed command this one retries. */
  retry_of: string | null;
  created_by: string;
  /** The hub process handing it to the broker right now (migration 0010); null when nobody is. */
  dispatch_owner: ColumnType<string | null, string | null | undefined, string | null>;
  /** Until when that claim holds (epoch ms): a process that died leaves it to run out. */
  dispatch_until: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface RecipeSetsTable {
  id: string;
  merchant_id: string;
  version: number;
  /** JSON of the signed RecipeBundle. */
  bundle: string;
  sha256: string;
  note: string | null;
  created_by: string;
  created_at: number;
}

export interface RecipeAssignmentsTable {
  id: string;
  merchant_id: string;
  recipe_set_id: string;
  target_type: string;
  target_id: string;
  /** The install_recipes batch that carries the set to the machines: its commands are the rollout status. */
  batch_id: string;
  created_by: string;
  created_at: number;
}

export interface OperationsTables {
  refunds: RefundsTable;
  material_catalog: MaterialCatalogTable;
  material_bins: MaterialBinsTable;
  restocks: RestocksTable;
  ops_alarms: OpsAlarmsTable;
  work_orders: WorkOrdersTable;
  work_order_events: WorkOrderEventsTable;
  command_batches: CommandBatchesTable;
  commands: CommandsTable;
  recipe_sets: RecipeSetsTable;
  recipe_assignments: RecipeAssignmentsTable;
}
