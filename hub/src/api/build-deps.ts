import { type Clock, MAX_ARTIFACT_BYTES } from '@crema/protocol';
import type { Logger } from 'pino';
import { AuditLog } from '../audit/log';
import { LoginHistory } from '../auth/login-history';
import { PasswordHasher } from '../auth/passwords';
import { RefreshTokens } from '../auth/refresh-tokens';
import type { ScryptParams } from '../auth/scrypt';
import { AuthService } from '../auth/service';
import { Sessions } from '../auth/sessions';
import { DEFAULT_THROTTLE, LoginThrottle, type ThrottleSettings } from '../auth/throttle';
import { AccessTokens, DEFAULT_TOKEN_SETTINGS } from '../auth/tokens';
import type { Db } from '../db/connect';
import type { DeviceChannel } from '../device-channel/channel';
import type { DeviceSessions } from '../devices/sessions';
import { readDeviceState } from '../fleet/state';
import { registerOperationsMetrics } from '../operations/metrics';
import type { Operations } from '../operations/runtime';
import { type AttachmentLimits, DEFAULT_ATTACHMENT_LIMITS } from '../operations/workorders/attachments';
import type { ArtifactUsage } from '../updates/artifact-usage';
import { storedArtifactUsage } from '../updates/artifacts/default-usage';
import type { ArtifactStore } from '../updates/artifacts/store';
import type { ApiDeps } from './deps';
import type { HubMetrics } from './metrics';
import type { Readiness } from './readiness';

export interface ApiDepsOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  jwtSecret: Uint8Array;
  /** The hub's registry (the MQTT gateway registers on it too); the operations gauges are added here. */
  metrics: HubMetrics;
  /** With the checks of the parts around the API (the MQTT gateway); the health routes add the store's. */
  readiness: Readiness;
  /** With the MQTT side's handler already registered, when there is one. */
  deviceSessions: DeviceSessions;
  operations: Operations;
  /** `null` for an API without a broker (tests, tools): the device routes then answer 503 UNAVAILABLE. */
  deviceChannel: DeviceChannel | null;
  artifacts: ArtifactStore;
  /** The rollouts module's answers; without one, `storedArtifactUsage` (nothing in use, stored = offered). */
  artifactUsage?: ArtifactUsage;
  /** Lower than MAX_ARTIFACT_BYTES only in tests. */
  maxArtifactBytes?: number;
  /** Work-order attachment limits (default 10 MiB, 20 per order). */
  attachmentLimits?: Partial<AttachmentLimits>;
  /** Lower only in tests, to keep them fast; stored hashes carry their own parameters. */
  passwordParams?: ScryptParams;
  throttle?: ThrottleSettings;
  accessTtlMs?: number;
  /** How often live streams re-read their session (tests shorten it). */
  sessionRecheckMs?: number;
}

/**
 * Builds the services of the admin API (tokens, passwords, audit, auth) and hands them over with the parts
 * built before it: the complete, frozen `ApiDeps` every route module receives. Adding a service is one field
 * in `ApiDeps` and one line here.
 */
export function buildApiDeps(options: ApiDepsOptions): ApiDeps {
  const { db, clock, logger, metrics, operations } = options;
  const tokens = new AccessTokens(
    {
      ...DEFAULT_TOKEN_SETTINGS,
      secret: options.jwtSecret,
      accessTtlMs: options.accessTtlMs ?? DEFAULT_TOKEN_SETTINGS.accessTtlMs,
    },
    clock,
  );
  const passwords = new PasswordHasher(options.passwordParams);
  const audit = new AuditLog(clock);
  const sessions = new Sessions(db.kysely, options.sessionRecheckMs, db.reads);
  const logins = new LoginHistory(db.kysely, clock);
  const auth = new AuthService({
    db: db.kysely,
    clock,
    tokens,
    refresh: new RefreshTokens(db.kysely, clock),
    throttle: new LoginThrottle(db.kysely, clock, options.throttle ?? DEFAULT_THROTTLE),
    passwords,
    audit,
    sessions,
    logins,
  });
  registerOperationsMetrics(metrics.registry, operations.ctx);
  return Object.freeze({
    db,
    clock,
    logger,
    metrics,
    readiness: options.readiness,
    tokens,
    sessions,
    auth,
    logins,
    passwords,
    audit,
    deviceSessions: options.deviceSessions,
    deviceState: (deviceId: string) => readDeviceState(db, deviceId),
    operations,
    deviceChannel: options.deviceChannel,
    artifacts: options.artifacts,
    artifactUsage: options.artifactUsage ?? storedArtifactUsage(db.kysely),
    maxArtifactBytes: options.maxArtifactBytes ?? MAX_ARTIFACT_BYTES,
    attachmentLimits: { ...DEFAULT_ATTACHMENT_LIMITS, ...options.attachmentLimits },
  });
}
