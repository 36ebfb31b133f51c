import type { Logger } from 'pino';
import { AuditLog } from '../audit/log';
import { PasswordHasher } from '../auth/passwords';
import { RefreshTokens } from '../auth/refresh-tokens';
import type { ScryptParams } from '../auth/scrypt';
import { AuthService } from '../auth/service';
import { Sessions } from '../auth/sessions';
import { DEFAULT_THROTTLE, LoginThrottle, type ThrottleSettings } from '../auth/throttle';
import { AccessTokens, DEFAULT_TOKEN_SETTINGS } from '../auth/tokens';
import type { Clock } from '../config/clock';
import type { MetricsAccess } from '../config/hub-config';
import type { Db } from '../db/connect';
import { DeviceSessions } from '../devices/sessions';
import type { ApiDeps } from './deps';
import { HubMetrics } from './metrics';
import { Readiness } from './readiness';

export interface BuildDepsOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  jwtSecret: Uint8Array;
  /** Lower only in tests, to keep them fast; stored hashes carry their own parameters. */
  passwordParams?: ScryptParams;
  throttle?: ThrottleSettings;
  accessTtlMs?: number;
  /** How often live streams re-read their session (tests shorten it). */
  sessionRecheckMs?: number;
  /** Where `/metrics` is served; open on the API port when absent. */
  metricsAccess?: MetricsAccess;
}

/** Wires the services every route module receives. */
export function buildApiDeps(options: BuildDepsOptions): ApiDeps {
  const { db, clock, logger } = options;
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
  const sessions = new Sessions(db.kysely, options.sessionRecheckMs);
  const auth = new AuthService({
    db: db.kysely,
    clock,
    tokens,
    refresh: new RefreshTokens(db.kysely, clock),
    throttle: new LoginThrottle(db.kysely, clock, options.throttle ?? DEFAULT_THROTTLE),
    passwords,
    audit,
    sessions,
  });
  return {
    db,
    clock,
    logger,
    metrics: new HubMetrics(options.metricsAccess),
    readiness: new Readiness(),
    tokens,
    sessions,
    auth,
    passwords,
    audit,
    deviceSessions: new DeviceSessions(),
  };
}
