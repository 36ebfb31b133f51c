import { join } from 'node:path';
import type { Clock } from '@crema/protocol';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import { createApp } from '../api/app';
import { buildApiDeps } from '../api/build-deps';
import type { ApiDeps } from '../api/deps';
import type { HubEnv } from '../api/env';
import { HubMetrics } from '../api/metrics';
import { Readiness } from '../api/readiness';
import { loadJwtSecret } from '../auth/jwt-secret';
import { prepareDataDir, secureDatabaseFiles } from '../config/data-dir';
import { type HubConfig, metricsAccessOf } from '../config/hub-config';
import type { ClusterBus } from '../coordination/cluster-bus';
import { JobLeases, newProcessId } from '../coordination/leases';
import { type Db, openDb } from '../db/connect';
import { migrateToLatest } from '../db/migrate';
import { DeviceChannel } from '../device-channel/channel';
import { verifyDeviceCredential } from '../devices/credentials';
import { DeviceSessions } from '../devices/sessions';
import { DynsecAdmin } from '../mqtt/dynsec';
import { MqttGateway } from '../mqtt/gateway';
import type { SigningKey } from '../operations/recipes/signing-key';
import { Operations } from '../operations/runtime';
import type { ArtifactUsage } from '../updates/artifact-usage';
import { defaultArtifactStore, openArtifactStore } from '../updates/artifacts/open-store';
import type { ArtifactStore } from '../updates/artifacts/store';
import { TrustKeysCatchUp } from '../updates/keys/distribution';
import { KeySealer } from '../updates/keys/key-seal';
import { SigningKeyring } from '../updates/keys/keyring';
import { RolloutEngine } from '../updates/rollouts/engine';
import { RolloutArtifactUsage } from '../updates/rollouts/usage';
import { buildClusterBus, sharedIsOnline } from './cluster';

/** Every long-lived part of a hub, each built once. None is started: `Hub.start()` does that, in order. */
export interface HubParts {
  readonly db: Db;
  readonly clock: Clock;
  /** The current signing key (manifests, recipe bundles, key statements); it changes on rotation. */
  readonly signingKey: SigningKey;
  /** The hub's signing keys: `CREMA_SIGNING_KEY` or `<dataDir>/signing-key.pem`, then rotated ones. */
  readonly signingKeys: SigningKeyring;
  /** Update artifacts' and attachments' bytes (`--artifact-store`: files or the database). */
  readonly artifacts: ArtifactStore;
  /** Queues key statements for devices that come back having missed a rotation. */
  readonly trustKeysCatchUp: TrustKeysCatchUp;
  /** Embedded (or external) broker, ingest with batched writes and acks, fleet state. */
  readonly gateway: MqttGateway;
  /** Operations sweep (command expiry, alarms, levels), device reports → command status, live events. */
  readonly operations: Operations;
  /** Commands out to machines over MQTT and the HTTP fallback's backend. */
  readonly deviceChannel: DeviceChannel;
  /** Rollout campaigns: progress records → machine status, phases, halts; commands via the dispatcher. */
  readonly rollouts: RolloutEngine;
  /** What the HTTP routes receive. */
  readonly api: ApiDeps;
  readonly app: OpenAPIHono<HubEnv>;
  /** This process among several on one store: its id (lease holder, command claims). */
  readonly processId: string;
  /** This process's job leases: give them to any `ScheduledJob` (coordination/) so it runs in one process. */
  readonly leases: JobLeases;
  /** Several hub processes (`mqttShareGroup`): live events and fleet changes between them. */
  readonly cluster: ClusterBus | undefined;
  /** `mqttDynsec`: device credentials and ACLs provisioned in Mosquitto's dynamic security plugin. */
  readonly dynsec: DynsecAdmin | undefined;
}

export interface BuildHubOptions {
  config: HubConfig;
  clock: Clock;
  logger: Logger;
  /** Where `CREMA_SIGNING_KEY` is read from (the process environment in the CLI). */
  env: NodeJS.ProcessEnv;
  /** A store of the caller's; default: `config.artifactStore` (files under `<dataDir>/artifacts`, or the database). */
  artifacts?: ArtifactStore;
  /** The rollouts module's view of artifacts (default: nothing in use, every stored artifact offered). */
  artifactUsage?: ArtifactUsage;
  /** Lower than MAX_ARTIFACT_BYTES only in tests. */
  maxArtifactBytes?: number;
}

/**
 * The hub's composition root: opens and migrates the store, then builds every part once, each from the parts
 * before it (metrics → MQTT gateway → operations → device channel → API deps → HTTP app). It starts nothing
 * and registers nothing later: what the HTTP app gets is complete.
 */
export async function buildHub(options: BuildHubOptions): Promise<HubParts> {
  const db = await openStore(options.config, options.logger);
  try {
    const keyring = await SigningKeyring.open(
      db.kysely,
      options.config.dataDir,
      options.env.CREMA_SIGNING_KEY,
      options.clock.now(),
      options.logger,
      {
        sealer: KeySealer.fromEnv(options.env),
        shared: options.config.mqttShareGroup !== undefined,
      },
    );
    const artifacts =
      options.artifacts ??
      (await openArtifactStore(
        options.config.artifactStore ?? defaultArtifactStore(db),
        db,
        options.config.dataDir,
        options.logger,
        () => options.clock.now(),
      ));
    return assemble(db, keyring, artifacts, options);
  } catch (err) {
    await db.close();
    throw err;
  }
}

async function openStore(config: HubConfig, logger: Logger): Promise<Db> {
  prepareDataDir(config.dataDir);
  const databaseUrl = config.databaseUrl ?? join(config.dataDir, 'hub.sqlite');
  secureDatabaseFiles(databaseUrl);
  const schema = config.databaseSchema === undefined ? {} : { schema: config.databaseSchema };
  const db = openDb(databaseUrl, schema);
  try {
    const applied = await migrateToLatest(db.kysely, schema);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    return db;
  } catch (err) {
    await db.close();
    throw err;
  }
}

function assemble(
  db: Db,
  signingKeys: SigningKeyring,
  artifacts: ArtifactStore,
  { config, clock, logger, artifactUsage, maxArtifactBytes }: BuildHubOptions,
): HubParts {
  const metrics = new HubMetrics(metricsAccessOf(config));
  const processId = newProcessId();
  // Scheduled jobs run in one process at a time; on SQLite (one process) the lease is always ours.
  const leases = new JobLeases(db.kysely, clock, processId);
  const scaledOut = config.mqttShareGroup !== undefined;
  const gateway = new MqttGateway({
    db,
    logger,
    clock,
    host: config.host,
    port: config.mqttPort,
    ...(config.mqttUrl === undefined ? {} : { url: config.mqttUrl }),
    ...(scaledOut ? { shareGroup: config.mqttShareGroup, shared: { leases } } : {}),
    authenticate: (deviceId, secret) => verifyDeviceCredential(db, deviceId, secret),
    metricsRegistry: metrics.registry,
    ...(config.clockSkewAlarmS === undefined ? {} : { clockSkewAlarmMs: config.clockSkewAlarmS * 1000 }),
  });
  const operations = new Operations({
    db: db.kysely,
    kind: db.kind,
    clock,
    logger,
    signingKey: signingKeys,
    fleetEvents: gateway.events,
    webhooks: { allowPrivateTargets: config.webhooksAllowPrivate ?? false },
    leases,
  });
  const deviceChannel = new DeviceChannel({
    db,
    gateway,
    ops: operations,
    clock,
    logger,
    leases,
    ...(scaledOut ? { isOnline: sharedIsOnline(db, gateway) } : {}),
  });
  const cluster = scaledOut
    ? buildClusterBus({
        url: config.databaseUrl ?? '',
        db,
        processId,
        clock,
        logger,
        bus: operations.bus,
        gateway,
        keyring: signingKeys,
        ctx: operations.ctx,
      })
    : undefined;
  // Its claims are transactional, so engines in several processes never send a machine its command twice.
  const rollouts = new RolloutEngine({
    ctx: operations.ctx,
    bus: operations.bus,
    clock,
    logger,
    fleet: gateway.events,
  });
  const readiness = new Readiness();
  readiness.add('mqtt', () => gateway.ready());
  const deviceSessions = new DeviceSessions();
  deviceSessions.onDisconnect((deviceId) => gateway.disconnect(deviceId));
  const dynsec =
    config.mqttDynsec && config.mqttUrl !== undefined
      ? new DynsecAdmin({ url: config.mqttUrl, logger })
      : undefined;
  if (dynsec)
    deviceSessions.onCredentialChange((change) =>
      change.kind === 'set'
        ? dynsec.setDevice(change.deviceId, change.secret)
        : dynsec.revokeDevice(change.deviceId),
    );
  const api = buildApiDeps({
    db,
    clock,
    logger,
    jwtSecret: loadJwtSecret(config.dataDir, config.jwtSecret),
    metrics,
    readiness,
    deviceSessions,
    operations,
    deviceChannel,
    artifacts,
    // Who may download and delete what follows the campaigns, unless a caller brings its own answer.
    artifactUsage: artifactUsage ?? new RolloutArtifactUsage(operations.ctx),
    ...(maxArtifactBytes ? { maxArtifactBytes } : {}),
    ...(config.attachmentMaxBytes === undefined
      ? {}
      : { attachmentLimits: { maxBytes: config.attachmentMaxBytes } }),
  });
  const trustKeysCatchUp = new TrustKeysCatchUp({
    ctx: operations.ctx,
    fleet: gateway.events,
    bus: operations.bus,
    logger,
  });
  return {
    db,
    clock,
    get signingKey() {
      return signingKeys.current();
    },
    signingKeys,
    artifacts,
    trustKeysCatchUp,
    gateway,
    operations,
    deviceChannel,
    rollouts,
    api,
    app: createApp(api),
    processId,
    leases,
    cluster,
    dynsec,
  };
}
