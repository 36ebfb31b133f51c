import type { Clock } from '@crema/protocol';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/log';
import type { LoginHistory } from '../auth/login-history';
import type { PasswordHasher } from '../auth/passwords';
import type { AuthService } from '../auth/service';
import type { Sessions } from '../auth/sessions';
import type { AccessTokens } from '../auth/tokens';
import type { Db } from '../db/connect';
import type { DeviceChannel } from '../device-channel/channel';
import type { DeviceSessions, DeviceStateReader } from '../devices/sessions';
import type { Operations } from '../operations/runtime';
import type { AttachmentLimits } from '../operations/workorders/attachments';
import type { ArtifactUsage } from '../updates/artifact-usage';
import type { ArtifactStore } from '../updates/artifacts/store';
import type { HubApp } from './env';
import type { HubMetrics } from './metrics';
import type { Readiness } from './readiness';

/**
 * What every route module receives in `register(app, deps)`: built once, complete and read-only, by
 * `buildApiDeps` (`api/build-deps.ts`) when the composition root (`src/composition/`) has built the parts.
 * Authentication is already applied to all of `/api/v1/*` (except the public auth endpoints); a module adds
 * `requirePermission(…)` per route and reads through a repository that takes the caller's TenantScope.
 */
export interface ApiDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: HubMetrics;
  readonly readiness: Readiness;
  readonly tokens: AccessTokens;
  /** Whether a token's session is still current; ends sessions on every hub process. */
  readonly sessions: Sessions;
  readonly auth: AuthService;
  /** Login attempts, for each user's (and the platform admin's) review. */
  readonly logins: LoginHistory;
  readonly passwords: PasswordHasher;
  readonly audit: AuditLog;
  /** The broker's hook to drop a device whose credential changed. */
  readonly deviceSessions: DeviceSessions;
  /** Latest fleet state for device detail (what ingest recorded). */
  readonly deviceState: DeviceStateReader;
  /** Operations services' context, live-event bus, signing key and sweep. */
  readonly operations: Operations;
  /** The channel to machines behind the device routes; `null` in an API built without a broker. */
  readonly deviceChannel: DeviceChannel | null;
  /** Where update artifacts' bytes live (`<dataDir>/artifacts` unless a shared store is given). */
  readonly artifacts: ArtifactStore;
  /** What rollouts say about artifacts (in use, offered to a device); a default without a rollouts module. */
  readonly artifactUsage: ArtifactUsage;
  /** Largest upload accepted (MAX_ARTIFACT_BYTES unless lowered). */
  readonly maxArtifactBytes: number;
  /** Work-order attachments: largest file (CREMA_ATTACHMENT_MAX_BYTES) and files per order. */
  readonly attachmentLimits: AttachmentLimits;
}

/** The shape every module in `api/routes/` exports. */
export interface RouteModule {
  register(app: HubApp, deps: ApiDeps): void;
}
