import type { Generated } from 'kysely';

/** Tables of updates: artifacts, rollout campaigns and the machines' progress (same conventions as the core). */
export interface ArtifactsTable {
  /** sha256 (hex) of the file: its identity and its name in the artifact store. */
  sha256: string;
  kind: string;
  version: string;
  /** JSON array of machine model ids. */
  models: string;
  size: number;
  min_version: string;
  notes: string;
  /** The signed manifest (compact JWS) devices receive in upgrade commands. */
  manifest_jws: string;
  signed_kid: string;
  uploaded_by: string;
  created_at: number;
}

/** One campaign; the JSON columns hold the validated settings it was created with. */
export interface RolloutsTable {
  id: string;
  merchant_id: string | null;
  name: string;
  artifact_sha256: string;
  kind: string;
  version: string;
  target: string;
  phases: string;
  failure_threshold: string;
  maintenance_window: string | null;
  signals: string;
  /** running | paused | halted | completed | cancelled */
  status: string;
  phase_index: number;
  phase_started_at: number;
  /** When every machine of the current phase had finished: the soak runs from here. */
  soak_started_at: number | null;
  /** The last resume of a halted campaign: failures and signals before it were judged by an operator. */
  resumed_at: number | null;
  halt_code: string | null;
  halt_reason: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/** One targeted (or skipped) machine of a campaign. */
export interface RolloutDevicesTable {
  rollout_id: string;
  device_id: string;
  merchant_id: string;
  phase: number | null;
  /** skipped | pending | sent | installing | succeeded | rolled_back | failed | cancelled */
  status: string;
  /** The latest `update_progress` stage reported. */
  stage: string | null;
  pct: number | null;
  reason: string | null;
  detail: string | null;
  from_version: string | null;
  command_id: string | null;
  attempts: Generated<number>;
  sent_at: number | null;
  progress_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

/** `update_progress` records as ingest stored them; `applied` once folded into `rollout_devices`. */
export interface UpdateProgressTable {
  message_id: string;
  rollout_id: string;
  device_id: string;
  merchant_id: string;
  kind: string;
  version: string;
  from_version: string;
  stage: string;
  pct: number | null;
  reason: string | null;
  detail: string | null;
  at: number;
  received_at: number;
  applied: Generated<number>;
}

export interface UpdatesTables {
  artifacts: ArtifactsTable;
  rollouts: RolloutsTable;
  rollout_devices: RolloutDevicesTable;
  update_progress: UpdateProgressTable;
}
