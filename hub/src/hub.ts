import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import pino, { type Logger } from 'pino';
import { createApp } from './api/app';
import { buildApiDeps } from './api/build-deps';
import type { ApiDeps } from './api/deps';
import { ensureSuperadmin } from './auth/bootstrap';
import { loadJwtSecret } from './auth/jwt-secret';
import { type Clock, systemClock } from './config/clock';
import type { HubConfig } from './config/hub-config';
import { type Db, openDb } from './db/connect';
import { migrateToLatest } from './db/migrate';
import { verifyDeviceCredential } from './devices/credentials';
import { readDeviceState } from './fleet/state';
import { MqttGateway } from './mqtt/gateway';
import { type RunningDeviceChannel, startDeviceChannel } from './sync/wiring';

export interface HubOptions {
  config: HubConfig;
  clock?: Clock;
  logger?: Logger;
  /** Where the generated first password is shown once (stderr in the CLI). */
  announce?: (line: string) => void;
}

export interface HubAddresses {
  http: string;
  mqtt: string;
  docs: string;
}

type HttpServer = ReturnType<typeof createAdaptorServer>;

/**
 * The hub process: store → migrations → first superadmin → MQTT (embedded broker or external, ingest, fleet
 * state) → HTTP API. `start()` resolves once it serves;
 * `stop()` releases everything in reverse order.
 */
export class Hub {
  private db: Db | undefined;
  private server: HttpServer | undefined;
  private deps: ApiDeps | undefined;
  private gateway: MqttGateway | undefined;
  private channel: RunningDeviceChannel | undefined;
  private readonly log: Logger;

  constructor(private readonly options: HubOptions) {
    this.log = (options.logger ?? pino({ level: options.config.logLevel })).child({ ns: 'hub' });
  }

  /** The services behind the API, once started (for tests and embedding). */
  get api(): ApiDeps | undefined {
    return this.deps;
  }

  async start(): Promise<HubAddresses> {
    try {
      return await this.startParts();
    } catch (err) {
      // Leave nothing half-open (a listening broker, an open pool) when a later part fails.
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  private async startParts(): Promise<HubAddresses> {
    const { config } = this.options;
    const clock = this.options.clock ?? systemClock;
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const databaseUrl = config.databaseUrl ?? join(config.dataDir, 'hub.sqlite');
    const schema = config.databaseSchema === undefined ? {} : { schema: config.databaseSchema };
    this.db = openDb(databaseUrl, schema);
    const applied = await migrateToLatest(this.db.kysely, schema);
    if (applied.length > 0) this.log.info({ applied }, 'migrations applied');

    const deps = buildApiDeps({
      db: this.db,
      clock,
      logger: this.log,
      jwtSecret: loadJwtSecret(config.dataDir, config.jwtSecret),
    });
    this.deps = deps;
    const created = await ensureSuperadmin(this.db.kysely, deps, {
      email: config.adminEmail,
      password: config.adminPassword,
      announce: this.options.announce ?? ((line) => process.stderr.write(`${line}\n`)),
    });
    if (created) this.log.info({ email: created }, 'first superadmin created');

    const db = this.db;
    const gateway = new MqttGateway({
      db,
      logger: this.log,
      host: config.host,
      port: config.mqttPort,
      ...(config.mqttUrl === undefined ? {} : { url: config.mqttUrl }),
      authenticate: (deviceId, secret) => verifyDeviceCredential(db, deviceId, secret),
      metricsRegistry: deps.metrics.registry,
      ...(config.clockSkewAlarmS === undefined ? {} : { clockSkewAlarmMs: config.clockSkewAlarmS * 1000 }),
    });
    this.gateway = gateway;
    await gateway.start();
    deps.readiness.add('mqtt', () => gateway.ready());
    deps.deviceSessions.onDisconnect((deviceId) => gateway.disconnect(deviceId));
    deps.deviceState = (deviceId) => readDeviceState(db, deviceId);
    // Commands out to machines, device HTTP fallback in (sync/).
    this.channel = startDeviceChannel({ deps, gateway, dataDir: config.dataDir, logger: this.log });

    const app = createApp(deps);
    const server = createAdaptorServer({ fetch: app.fetch });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const http = `http://${config.host}:${port}`;
    this.log.info({ http }, 'hub ready');
    return { http, mqtt: gateway.address, docs: `${http}/api/docs` };
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
    }
    await this.channel?.stop();
    this.channel = undefined;
    await this.gateway?.stop();
    this.gateway = undefined;
    await this.db?.close();
    this.db = undefined;
  }
}
