import type { AddressInfo } from 'node:net';
import { createUlidGenerator, type TrustStore } from '@crema/protocol';
import { createAdaptorServer } from '@hono/node-server';
import { createApi } from './api/app';
import { isLoopbackHost } from './api/guards/host';
import { installedConfig } from './commands/handlers/machine';
import type { AgentConfig } from './config/schema';
import { asIdentity, createDrivers } from './drivers';
import type { Brewer } from './drivers/brewer/types';
import type { AuxBoards } from './drivers/modbus/types';
import type { PaymentTerminal } from './drivers/payment/types';
import { AgentError } from './errors';
import { createLogger, type Logger } from './log/logger';
import { MaintenanceService } from './maintenance/service';
import { AgentMetrics, type DriverHealth } from './metrics/metrics';
import { AlarmDetector } from './monitor/alarms';
import { BIN_LEVELS_KEY, Bins } from './monitor/bins';
import { MaterialsReporter } from './monitor/materials';
import type { MonitorSink } from './monitor/sink';
import { TelemetrySampler } from './monitor/telemetry';
import { defaultRecipeSet } from './orders/default-recipe-set';
import { OrderLedger } from './orders/ledger';
import { salesLocked as isSalesLocked, OrderService } from './orders/order-service';
import { RecipeEngine } from './recipe/engine';
import type { RecipeRunner } from './recipe/types';
import { Store } from './store/store';
import { HubEnrolment, storedCredentialFor } from './sync/claim';
import { credentialPath } from './sync/credential-file';
import { HubLink, type HubLinkHooks } from './sync/hub-link';
import { type Clock, systemClock } from './time/clock';
import type { ReleaseSlots } from './updates/release-slots';

/** Settings key of the brewer this machine pinned (INFO serial and model), kept across restarts. */
const BREWER_IDENTITY_KEY = 'drivers.brewerIdentity';

/** The machine's parts; the real drivers from the configuration unless a test hands in its own. */
export type Hardware = { brewer: Brewer; terminal: PaymentTerminal; boards: AuxBoards };

export type AgentOptions = {
  config: AgentConfig;
  clock?: Clock;
  logger?: Logger;
  hardware?: Hardware;
  /** Replaces the recipe engine (unit tests without a brewer). */
  runner?: RecipeRunner;
  /**
   * What a `restart` command with target `agent` does once its result is recorded. Default: `restart()` in
   * this process; the CLI exits instead so its supervisor starts a fresh process.
   */
  onRestart?: () => void;
  /** Observation points on the hub link (used when `config.hub` is set). */
  hubHooks?: HubLinkHooks;
  /**
   * Start a new ledger (new epoch, sequence from 1) if this machine's ledger is missing, empty or damaged;
   * the old files are kept aside. Without it such a ledger stops the start with LEDGER_MISSING/LEDGER_DAMAGED.
   */
  resetLedger?: boolean;
  /** Overrides the update trust store (tests); default: the agent's own (hub.publicKey, then `trust_keys`). */
  trust?: () => TrustStore | undefined;
  /** The agent's release slots (self-update); without them `upgrade_agent` is refused. */
  slots?: ReleaseSlots;
};

type Running = {
  store: Store;
  hardware: Hardware;
  engine: RecipeRunner & { start?(): Promise<void>; stop?(): Promise<void> };
  monitors: { start(): void; stop(): void }[];
  orders: OrderService;
  maintenance: MaintenanceService;
  metrics: AgentMetrics;
  hubLink: HubLink | undefined;
  /** Claiming a credential with `hub.claimCode`; it sets `hubLink` once the credential is stored. */
  enrolment: HubEnrolment | undefined;
  server: ReturnType<typeof createAdaptorServer>;
  url: string;
};

/**
 * One coffee machine's agent: config → store → drivers → recipe engine → monitor → orders → local API.
 * The constructor does nothing; `start()` brings the parts up in that order and `stop()` takes them down in
 * reverse, leaving the ledger consistent.
 */
export class Agent {
  private running: Running | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly options: AgentOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = (options.logger ?? createLogger()).child({ ns: 'agent' });
  }

  get url(): string | undefined {
    return this.running?.url;
  }

  get store(): Store | undefined {
    return this.running?.store;
  }

  get orders(): OrderService | undefined {
    return this.running?.orders;
  }

  get maintenance(): MaintenanceService | undefined {
    return this.running?.maintenance;
  }

  /** The sync link and command executor, while running with a `hub` section. */
  get hubLink(): HubLink | undefined {
    return this.running?.hubLink;
  }

  async start(): Promise<{ api: string }> {
    if (this.running) return { api: this.running.url };
    const { config } = this.options;
    if (!isLoopbackHost(config.api.host) && config.api.technicianToken === undefined) {
      // The schema checks this too; a config built in code must not skip it.
      throw new AgentError(
        'CONFIG_INVALID',
        `binding beyond loopback (${config.api.host}) needs api.technicianToken`,
      );
    }
    const clock = this.clock;
    const logger = this.options.logger ?? createLogger();
    const store = Store.open({
      dataDir: config.dataDir,
      deviceId: config.deviceId,
      outboxMaxBytes: config.outbox.maxBytes,
      clock,
      defaults: defaultRecipeSet(config.currency),
      reserveBytes: config.storage.reserveBytes,
      ...(this.options.resetLedger ? { resetLedger: true } : {}),
    });
    if (store.replaced) {
      this.log.warn(
        { replaced: store.replaced, ledgerId: store.identity.ledgerId },
        'ledger reset: a new ledger epoch starts; the old files are kept aside',
      );
    }
    let hubLink: HubLink | undefined;
    let enrolment: HubEnrolment | undefined;
    try {
      const hardware = this.options.hardware ?? this.realHardware(logger, store);
      await Promise.all([hardware.brewer.start(), hardware.terminal.start(), hardware.boards.start()]);
      const salesLocked = () => isSalesLocked(store.settings);
      // A binding the hub installed (set_config `settings.bins`) wins over the configuration file.
      const bins = new Bins(installedConfig({ store }).settings.bins ?? config.bins, {
        load: () => store.settings.get<Record<string, number>>(BIN_LEVELS_KEY),
        save: (levels) => store.settings.set(BIN_LEVELS_KEY, levels),
      });
      const engine =
        this.options.runner ??
        new RecipeEngine({ brewer: hardware.brewer, boards: hardware.boards, logger, salesLocked, bins });
      await (engine as { start?(): Promise<void> }).start?.();

      const sink = this.sink(store);
      const monitors = [
        new TelemetrySampler({
          boards: hardware.boards,
          links: { brewer: hardware.brewer, payment: hardware.terminal },
          clock,
          logger,
          sink,
        }),
        new MaterialsReporter({ boards: hardware.boards, clock, sink, bins }),
        new AlarmDetector({
          boards: hardware.boards,
          brewer: hardware.brewer,
          payment: hardware.terminal,
          clock,
          logger,
          sink,
          thresholds: config.thresholds,
          bins,
        }),
      ];
      for (const m of monitors) m.start();

      const ulid = createUlidGenerator(() => clock.now());
      const maintenance: MaintenanceService = new MaintenanceService({
        config: config.maintenance,
        settings: store.settings,
        brewer: hardware.brewer,
        clock,
        logger,
        busy: () => orders.busy,
        onOrderUpdate: (listener) => orders.onUpdate(listener),
      });
      const orders: OrderService = new OrderService({
        ledger: new OrderLedger(store.db, store.outbox, () => clock.now(), store.storage),
        catalog: store.catalog,
        settings: store.settings,
        terminal: hardware.terminal,
        runner: engine,
        clock,
        logger,
        ulid,
        authTimeoutMs: config.orders.authTimeoutMs,
        reconcileIntervalMs: config.orders.reconcileIntervalMs,
        storage: store.storage,
        maintenance,
      });
      await orders.start();
      const linkWith = (hub: NonNullable<AgentConfig['hub']>, credential: string) =>
        new HubLink({
          hub,
          credential,
          deviceId: config.deviceId,
          model: config.model,
          store,
          orders,
          brewer: hardware.brewer,
          boards: hardware.boards,
          maintenance,
          clock,
          logger,
          restartAgent: () => this.restartRequested(),
          onSettings: (settings) => {
            if (settings.bins) bins.replace(settings.bins);
          },
          hooks: this.options.hubHooks,
          updates: {
            config: config.updates,
            dataDir: config.dataDir,
            ...(this.options.trust ? { trust: this.options.trust } : {}),
            ...(this.options.slots ? { slots: this.options.slots } : {}),
          },
        });
      const hub = config.hub;
      const credentialFile = credentialPath(config.dataDir);
      const credential =
        hub?.credential ?? (hub ? storedCredentialFor(credentialFile, config.deviceId, this.log) : undefined);
      if (hub && credential !== undefined) {
        if (hub.claimCode !== undefined)
          this.log.info('using the stored hub credential; the claim code is not needed');
        hubLink = linkWith(hub, credential);
      } else if (hub?.claimCode !== undefined) {
        // No credential yet: sell offline (records wait in the outbox) while the claim is tried in the background.
        const claimCode = hub.claimCode;
        enrolment = new HubEnrolment({
          request: {
            httpUrl: hub.httpUrl,
            code: claimCode,
            deviceId: config.deviceId,
            model: config.model,
            ...(hub.firmwareVersion === undefined ? {} : { firmwareVersion: hub.firmwareVersion }),
          },
          file: credentialFile,
          clock,
          logger,
          onCredential: (claimed) => {
            const r = this.running;
            if (!r || r.enrolment !== enrolment) return;
            const link = linkWith(hub, claimed);
            r.hubLink = link;
            link.start().then(
              // Stopped while the link was starting: the stop did not see it yet, so it is stopped here.
              () => (this.running === r ? undefined : link.stop()),
              (err: unknown) =>
                this.log.error({ err: (err as Error).message }, 'hub link did not start after the claim'),
            );
          },
        });
      }
      maintenance.start();
      await hubLink?.start();

      const health = (): DriverHealth => ({
        brewer: hardware.brewer.connected,
        payment: hardware.terminal.connected,
        boards: hardware.boards.snapshot().health.map((b) => ({ board: b.board, up: b.state === 'closed' })),
      });
      const metrics = new AgentMetrics({ orders, outbox: store.outbox, health, processMetrics: true });
      const api = createApi({
        deviceId: config.deviceId,
        store,
        orders,
        maintenance,
        runner: engine,
        bins,
        metrics,
        health,
        logger,
        bodyLimitBytes: config.api.bodyLimitBytes,
        allowedHosts: [...config.api.allowedHosts, config.api.host],
        ...(config.api.technicianToken ? { technicianToken: config.api.technicianToken } : {}),
        startedAt: clock.now(),
        now: () => clock.now(),
      });
      const server = createAdaptorServer({ fetch: api.fetch, hostname: config.api.host });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.api.port, config.api.host, () => resolve());
      });
      const { port } = server.address() as AddressInfo;
      const host = config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host;
      const url = `http://${host}:${port}`;
      this.running = {
        store,
        hardware,
        engine,
        monitors,
        orders,
        maintenance,
        metrics,
        hubLink,
        enrolment,
        server,
        url,
      };
      enrolment?.start();
      this.log.info({ api: url, deviceId: config.deviceId }, 'agent ready');
      return { api: url };
    } catch (err) {
      await hubLink?.stop();
      store.close();
      throw err;
    }
  }

  async stop(): Promise<void> {
    const r = this.running;
    if (!r) return;
    this.running = undefined;
    // Nothing is sent from, or executed against, a store about to close.
    r.enrolment?.stop();
    await r.hubLink?.stop();
    await new Promise<void>((resolve) => {
      r.server.close(() => resolve());
      // Open SSE streams would otherwise hold the server.
      (r.server as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
    await r.maintenance.stop();
    await r.orders.stop();
    for (const m of r.monitors) m.stop();
    await r.engine.stop?.();
    await Promise.allSettled([
      r.hardware.brewer.stop(),
      r.hardware.terminal.stop(),
      r.hardware.boards.stop(),
    ]);
    r.metrics.close();
    r.store.close();
    this.log.info('agent stopped');
  }

  /** Stops and starts again on the same data directory (a `restart` command when no supervisor is in charge). */
  async restart(): Promise<{ api: string }> {
    await this.stop();
    return this.start();
  }

  private restartRequested(): void {
    if (this.options.onRestart) {
      this.options.onRestart();
      return;
    }
    this.restart().catch((err: unknown) =>
      this.log.error({ err: (err as Error).message }, 'agent restart failed'),
    );
  }

  private realHardware(logger: Logger, store: Store): Hardware {
    const d = createDrivers(this.options.config.drivers, {
      clock: this.clock,
      logger,
      brewerMemory: {
        load: () => asIdentity(store.settings.get<unknown>(BREWER_IDENTITY_KEY)),
        save: (identity) => store.settings.set(BREWER_IDENTITY_KEY, identity),
      },
    });
    return { brewer: d.brewer, terminal: d.payment, boards: d.boards };
  }

  /** The monitor's records go to the ledger and outbox; a full disk must not stop the monitor's timers. */
  private sink(store: Store): MonitorSink {
    const log = this.log;
    return ((type: 'telemetry' | 'materials' | 'alarm', body: never) => {
      // While the disk reserve is given up, the space it freed is for money records and alarms only.
      if (type !== 'alarm' && !store.storage.held) return;
      try {
        store.sink.emit(type, body);
      } catch (err) {
        log.warn({ type, err: (err as Error).message }, 'monitor record not stored');
      }
    }) as MonitorSink;
  }
}
