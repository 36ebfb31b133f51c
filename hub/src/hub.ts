import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from '@crema/protocol';
import { createAdaptorServer } from '@hono/node-server';
import pino, { type Logger } from 'pino';
import type { ApiDeps } from './api/deps';
import { MetricsServer } from './api/metrics-server';
import { ensureSuperadmin } from './auth/bootstrap';
import { buildHub, type HubParts } from './composition/build-hub';
import type { HubConfig } from './config/hub-config';
import type { ArtifactUsage } from './updates/artifact-usage';
import type { ArtifactStore } from './updates/artifacts/store';

export interface HubOptions {
  config: HubConfig;
  clock?: Clock;
  logger?: Logger;
  /** Where the generated first password is shown once (stderr in the CLI). */
  announce?: (line: string) => void;
  /** Where `CREMA_SIGNING_KEY` is read from (default: the process environment). */
  env?: NodeJS.ProcessEnv;
  /** The rollouts module's view of artifacts (tests inject one; default in build-hub). */
  artifactUsage?: ArtifactUsage;
  /** A shared artifact store (default: `<dataDir>/artifacts`). */
  artifacts?: ArtifactStore;
  /** Lower than MAX_ARTIFACT_BYTES only in tests. */
  maxArtifactBytes?: number;
}

export interface HubAddresses {
  http: string;
  mqtt: string;
  docs: string;
  /** The separate metrics listener, when configured. */
  metrics?: string;
}

type HttpServer = ReturnType<typeof createAdaptorServer>;

/**
 * The hub process. `start()`: build the parts (`composition/build-hub.ts`: store and migrations, then every
 * part once) → first superadmin → MQTT gateway → operations runtime → device channel → HTTP; it resolves once
 * the hub serves. `stop()` releases everything in reverse order.
 */
export class Hub {
  private built: HubParts | undefined;
  private server: HttpServer | undefined;
  private metricsServer: MetricsServer | undefined;
  private readonly log: Logger;

  constructor(private readonly options: HubOptions) {
    this.log = (options.logger ?? pino({ level: options.config.logLevel })).child({ ns: 'hub' });
  }

  /** The parts, once started (for tests, benchmarks and embedding). */
  get parts(): HubParts | undefined {
    return this.built;
  }

  /** The services behind the API, once started. */
  get api(): ApiDeps | undefined {
    return this.built?.api;
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
    const parts = await buildHub({
      config,
      clock: this.options.clock ?? systemClock,
      logger: this.log,
      env: this.options.env ?? process.env,
      ...(this.options.artifactUsage ? { artifactUsage: this.options.artifactUsage } : {}),
      ...(this.options.artifacts ? { artifacts: this.options.artifacts } : {}),
      ...(this.options.maxArtifactBytes ? { maxArtifactBytes: this.options.maxArtifactBytes } : {}),
    });
    this.built = parts;
    const created = await ensureSuperadmin(parts.db.kysely, parts.api, {
      email: config.adminEmail,
      password: config.adminPassword,
      announce: this.options.announce ?? ((line) => process.stderr.write(`${line}\n`)),
    });
    if (created) this.log.info({ email: created }, 'first superadmin created');

    await parts.cluster?.start();
    await parts.dynsec?.start();
    await parts.gateway.start();
    parts.operations.start();
    parts.deviceChannel.start();
    parts.rollouts.start();
    parts.trustKeysCatchUp.start();

    const server = createAdaptorServer({ fetch: parts.app.fetch });
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
    const metrics = await this.startMetrics(parts.api);
    this.log.info({ http }, 'hub ready');
    return { http, mqtt: parts.gateway.address, docs: `${http}/api/docs`, ...(metrics ? { metrics } : {}) };
  }

  /** The separate metrics listener, when configured; says where metrics are when the API port hides them. */
  private async startMetrics(deps: ApiDeps): Promise<string | undefined> {
    const { config } = this.options;
    if (config.metricsPort === undefined) {
      if (!deps.metrics.access.onApiPort)
        this.log.warn('metrics are off: set CREMA_METRICS_TOKEN or --metrics-port to scrape them');
      return undefined;
    }
    this.metricsServer = new MetricsServer(
      deps.metrics,
      config.metricsHost ?? '127.0.0.1',
      config.metricsPort,
    );
    return this.metricsServer.start();
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
    await this.metricsServer?.stop();
    this.metricsServer = undefined;
    const parts = this.built;
    this.built = undefined;
    if (!parts) return;
    await parts.rollouts.stop();
    parts.trustKeysCatchUp.stop();
    await parts.deviceChannel.stop();
    await parts.operations.stop();
    await parts.gateway.stop();
    await parts.cluster?.stop();
    await parts.dynsec?.stop();
    await parts.db.close();
  }
}
