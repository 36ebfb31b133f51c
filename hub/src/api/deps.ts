import type { Logger } from 'pino';
import type { AuditLog } from '../audit/log';
import type { PasswordHasher } from '../auth/passwords';
import type { AuthService } from '../auth/service';
import type { Sessions } from '../auth/sessions';
import type { AccessTokens } from '../auth/tokens';
import type { Clock } from '../config/clock';
import type { Db } from '../db/connect';
import type { DeviceSessions, DeviceStateReader } from '../devices/sessions';
import type { HubApp } from './env';
import type { HubMetrics } from './metrics';
import type { Readiness } from './readiness';

/**
 * What every route module receives in `register(app, deps)`. Authentication is already applied to all of
 * `/api/v1/*` (except the public auth endpoints); a module adds `requirePermission(…)` per route and reads
 * through a repository that takes the caller's TenantScope.
 */
export interface ApiDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  metrics: HubMetrics;
  readiness: Readiness;
  tokens: AccessTokens;
  /** Whether a token's session is still current; ends sessions on every hub process. */
  sessions: Sessions;
  auth: AuthService;
  passwords: PasswordHasher;
  audit: AuditLog;
  /** The broker's hook to drop a device whose credential changed. */
  deviceSessions: DeviceSessions;
  /** Latest fleet state for device detail, when the ingest side is present. */
  deviceState?: DeviceStateReader;
}

/** The shape every module in `api/routes/` exports. */
export interface RouteModule {
  register(app: HubApp, deps: ApiDeps): void;
}
