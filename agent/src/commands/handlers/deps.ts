import type { Config } from '@crema/protocol';
import type { Brewer } from '../../drivers/brewer/types';
import type { AuxBoards } from '../../drivers/modbus/types';
import type { MaintenanceService } from '../../maintenance/service';
import type { Store } from '../../store/store';
import type { AgentTrust } from '../../updates/trust';
import type { UpdateService } from '../../updates/update-service';

export type CommandHandlerDeps = {
  store: Pick<Store, 'db' | 'catalog' | 'settings' | 'outbox'>;
  /**
   * The update trust store (first key: the configured hub public key; then `trust_keys`). Without a trusted
   * key every recipe bundle is refused (UPDATE_KEY_UNKNOWN).
   */
  trust?: AgentTrust;
  brewer?: Brewer;
  boards?: AuxBoards;
  /** Facts for `diagnostics` beyond the store (versions, sync state, uptime…). */
  describe?: () => Record<string, unknown>;
  /** Told after a `set_config` was committed, to apply the new settings live. */
  onConfig?: (config: Config) => void;
  /** Restarts the agent process or the brewer link, after the result is recorded. */
  restart?: (target: 'agent' | 'brewer') => void;
  /** Firmware and agent updates (without it both upgrade commands fail). */
  updates?: Pick<UpdateService, 'handle'>;
  /** Per rinse cycle. */
  rinseTimeoutMs?: number;
  /** Cleaning compliance: a rinse or descale run by command counts, and holds sales off while it runs. */
  maintenance?: Pick<MaintenanceService, 'perform'>;
  /** A whole descale. */
  descaleTimeoutMs?: number;
};

/** Settings keys of what commands install. */
export const REMOTE_CONFIG_KEY = 'remote.config';
export const LOCK_REASON_KEY = 'sales.lockReason';
