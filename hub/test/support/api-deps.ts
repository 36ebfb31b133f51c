import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '@crema/protocol';
import pino from 'pino';
import { buildApiDeps } from '../../src/api/build-deps';
import type { ApiDeps } from '../../src/api/deps';
import { HubMetrics } from '../../src/api/metrics';
import { Readiness } from '../../src/api/readiness';
import type { ScryptParams } from '../../src/auth/scrypt';
import type { Db } from '../../src/db/connect';
import { DeviceSessions } from '../../src/devices/sessions';
import { SigningKey } from '../../src/operations/recipes/signing-key';
import { Operations } from '../../src/operations/runtime';
import type { ArtifactUsage } from '../../src/updates/artifact-usage';
import { FsArtifactStore } from '../../src/updates/artifacts/fs-store';
import { SigningKeyring } from '../../src/updates/keys/keyring';

export interface TestApiDepsOptions {
  passwordParams?: ScryptParams;
  accessTtlMs?: number;
  /** Another API over the same store (a second hub process) shares the first one's JWT key. */
  jwtSecret?: Uint8Array;
  sessionRecheckMs?: number;
  /** Where artifacts go (default: a directory of this test process under the OS temp dir). */
  artifactsDir?: string;
  artifactUsage?: ArtifactUsage;
}

/**
 * The API's real parts over a test store, built the way the hub builds them but without a broker: a fresh
 * JWT key and recipe signing key, an operations runtime that is not started (a test runs its sweep when it
 * wants one), no device channel (device routes answer 503), and no MQTT handler behind device sessions.
 */
export function buildTestApiDeps(db: Db, clock: Clock, options: TestApiDepsOptions = {}): ApiDeps {
  const logger = pino({ level: process.env.CREMA_TEST_LOG ?? 'silent' });
  const operations = new Operations({
    db: db.kysely,
    kind: db.kind,
    clock,
    logger,
    signingKey: SigningKeyring.of(
      SigningKey.generate(),
      join(tmpdir(), `crema-test-keys-${process.pid}-${randomBytes(4).toString('hex')}`),
    ),
  });
  return buildApiDeps({
    db,
    clock,
    logger,
    jwtSecret: randomBytes(32),
    metrics: new HubMetrics(),
    readiness: new Readiness(),
    deviceSessions: new DeviceSessions(),
    operations,
    deviceChannel: null,
    artifacts: new FsArtifactStore(
      options.artifactsDir ?? join(tmpdir(), `crema-test-artifacts-${process.pid}`),
    ),
    ...options,
  });
}
