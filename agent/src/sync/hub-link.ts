import { join } from 'node:path';
import type { Command, CommandProgress, CommandResult, RemoteSettings, TrustStore } from '@crema/protocol';
import {
  CommandExecutor,
  type CommandHandlers,
  createCommandHandlers,
  HubTime,
  installedConfig,
} from '../commands';
import type { HubConfig } from '../config/hub';
import type { UpdatesConfig } from '../config/updates';
import type { Brewer } from '../drivers/brewer/types';
import type { AuxBoards } from '../drivers/modbus/types';
import type { Logger } from '../log/logger';
import type { MaintenanceService } from '../maintenance/service';
import type { OrderService } from '../orders/order-service';
import { salesLocked as isSalesLocked } from '../orders/order-service';
import type { Store } from '../store/store';
import type { Clock, ClockTimer } from '../time/clock';
import { ArtifactDownloader } from '../updates/download';
import type { ReleaseSlots } from '../updates/release-slots';
import { AgentTrust } from '../updates/trust';
import { UpdateService } from '../updates/update-service';
import { MachineIdentity } from './identity';
import { Sync } from './sync';
import type { SyncTuning } from './types';

/** Lets the `restart` command's result reach the hub before the agent goes down (it is in the outbox anyway). */
const RESTART_GRACE_MS = 1_000;
/** Settings key of the hub clock offset learnt last (hub − local, ms), for command expiry after a restart. */
const HUB_CLOCK_OFFSET_KEY = 'sync.hubClockOffsetMs';

/** Small observation points for an embedding program (the scenario tests); none changes what the link does. */
export type HubLinkHooks = {
  /** Every command delivered (MQTT or HTTP poll, duplicates included) with the executor's answer. */
  onCommand?: (command: Command, result: Promise<CommandResult>, via: 'mqtt' | 'http') => void;
  /** Every progress report, whether or not a path to the hub is up. */
  onProgress?: (progress: CommandProgress) => void;
  /** Wraps the command handlers (e.g. to count executions). */
  wrapHandlers?: (handlers: CommandHandlers) => CommandHandlers;
  /** Overrides the configured sync tuning. */
  tuning?: Partial<SyncTuning>;
  /** How often a deferred command looks whether the machine is idle. */
  idleCheckMs?: number;
};

export type HubLinkOptions = {
  hub: HubConfig;
  /** The device credential: `hub.credential`, or the one a claim code stored (`sync/claim.ts`). */
  credential: string;
  deviceId: string;
  model: string;
  store: Store;
  orders: OrderService;
  brewer?: Brewer;
  boards?: AuxBoards;
  /** Cleaning compliance: reported in each heartbeat (and at once when it changes); runs rinse/descale commands. */
  maintenance?: MaintenanceService;
  clock: Clock;
  logger: Logger;
  /** Restarts the agent (a `restart` command with target `agent`), after its result is recorded. */
  restartAgent: () => void;
  /** Told the whole installed remote settings after a `set_config` (e.g. a new bin binding). */
  onSettings?: (settings: RemoteSettings) => void;
  hooks?: HubLinkHooks;
  /** Updates: configuration, where staged artifacts go by default, the trust store and release slots. */
  updates?: {
    config: UpdatesConfig;
    dataDir: string;
    /** Overrides the trust store; default: the agent's own (`trust`). */
    trust?: () => TrustStore | undefined;
    slots?: ReleaseSlots;
  };
};

type Parts = {
  identity: MachineIdentity;
  executor: CommandExecutor;
  updates: UpdateService | undefined;
  sync: Sync;
  unsubscribe: () => void;
  startedAt: number;
};

/**
 * The agent's side of the hub: the sync link (records up, commands down) and the command executor, built
 * from the agent's store, order service and drivers. Commands wait while the order service is busy; results
 * and order updates are sent at once; `set_config` changes the link's settings live.
 */
export class HubLink {
  private parts: Parts | undefined;
  private trustStore: AgentTrust | undefined;
  private restartTimer: ClockTimer | undefined;
  private readonly log: Logger;

  constructor(private readonly o: HubLinkOptions) {
    this.log = o.logger.child({ ns: 'agent:hub-link' });
  }

  get sync(): Sync | undefined {
    return this.parts?.sync;
  }

  /**
   * The update trust store once started; update handlers read `trust.current()` at each check (they are
   * given `() => trust.current()`).
   */
  get trust(): AgentTrust | undefined {
    return this.trustStore;
  }

  get executor(): CommandExecutor | undefined {
    return this.parts?.executor;
  }

  async start(): Promise<void> {
    if (this.parts) return;
    const { o } = this;
    const hooks = o.hooks ?? {};
    const { store, orders } = o;
    const identity = new MachineIdentity({
      model: o.model,
      store,
      brewer: o.brewer,
      fallbackFirmware: o.hub.firmwareVersion,
    });
    await identity.start();
    const startedAt = o.clock.now();
    let sync: Sync | undefined;
    // The update trust store: the configured hub key first, then what `trust_keys` statements changed.
    const trust = new AgentTrust(store.settings, o.hub.publicKey);
    trust.start();
    this.trustStore = trust;
    const updates = this.updateService(() => sync?.state !== undefined && sync.state !== 'offline');
    const created = createCommandHandlers({
      store,
      trust,
      brewer: o.brewer,
      boards: o.boards,
      describe: () => ({
        deviceId: o.deviceId,
        ...identity.describe(),
        sync: sync?.stats,
        uptimeS: Math.floor((o.clock.now() - startedAt) / 1000),
      }),
      onConfig: (config) => {
        sync?.applySettings(config.settings);
        o.onSettings?.(config.settings);
      },
      restart: (target) => this.restart(target),
      ...(updates ? { updates } : {}),
      ...(o.maintenance
        ? {
            maintenance: o.maintenance,
            rinseTimeoutMs: o.maintenance.timeouts.rinseMs,
            descaleTimeoutMs: o.maintenance.timeouts.descaleMs,
          }
        : {}),
    });
    const hubTime = new HubTime(o.clock, {
      load: () => store.settings.get<number>(HUB_CLOCK_OFFSET_KEY),
      save: (offset) => store.settings.set(HUB_CLOCK_OFFSET_KEY, offset),
    });
    const executor = new CommandExecutor({
      store,
      clock: o.clock,
      hubTime,
      logger: o.logger,
      handlers: hooks.wrapHandlers ? hooks.wrapHandlers(created) : created,
      busy: () => orders.busy,
      progress: (p) => {
        hooks.onProgress?.(p);
        sync?.publishProgress(p);
      },
      onResult: () => sync?.kick(),
      ...(hooks.idleCheckMs !== undefined ? { idleCheckMs: hooks.idleCheckMs } : {}),
    });
    sync = new Sync({
      deviceId: o.deviceId,
      credential: o.credential,
      mqttUrl: o.hub.mqttUrl,
      httpUrl: o.hub.httpUrl,
      outbox: store.outbox,
      clock: o.clock,
      logger: o.logger,
      identity: () => identity.describe(),
      status: () => {
        const salesLocked = isSalesLocked(store.settings);
        const maintenance = o.maintenance?.report();
        const state = orders.busy
          ? 'brewing'
          : maintenance?.running
            ? 'maintenance'
            : salesLocked || maintenance?.salesLocked
              ? 'locked'
              : 'idle';
        return { state, salesLocked, ...(maintenance ? { maintenance } : {}) };
      },
      onHubTime: (ts) => hubTime.observe(ts),
      onCommand: (command, via) => {
        const result = executor.receive(command);
        // A command interrupted by a stop rejects; the hub sends it again.
        result.catch(() => undefined);
        hooks.onCommand?.(command, result, via);
      },
      tuning: { ...o.hub.sync, ...hooks.tuning },
    });
    // Settings a `set_config` installed before this start apply from the first message on.
    sync.applySettings(installedConfig({ store }).settings);
    // A finished order is a live record: send it now rather than at the next outbox look.
    const link = sync;
    const offOrders = orders.onUpdate(() => link.kick());
    // Compliance changes (a task fell due, a run started or ended) reach the hub without waiting for the beat.
    const offMaintenance = o.maintenance?.onChange(() => link.beat());
    const unsubscribe = () => {
      offOrders();
      offMaintenance?.();
    };
    executor.start();
    sync.start();
    // An install a stop or a crash interrupted goes on (or rolls back) from where its journal says.
    updates?.start();
    this.parts = { identity, executor, updates, sync, unsubscribe, startedAt };
    this.log.info({ mqtt: o.hub.mqttUrl, http: o.hub.httpUrl }, 'hub link started');
  }

  /** The executor first (unfinished commands are not recorded, so the hub sends them again), then the link. */
  async stop(): Promise<void> {
    const p = this.parts;
    if (!p) return;
    this.parts = undefined;
    if (this.restartTimer) this.o.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    p.unsubscribe();
    // The executor is told first, so that an install interrupted now is resumed, not reported failed.
    const executorStopped = p.executor.stop();
    await p.updates?.stop();
    await executorStopped;
    await p.sync.stop();
    p.identity.stop();
  }

  private updateService(hubConnected: () => boolean): UpdateService | undefined {
    const { o } = this;
    const u = o.updates;
    if (!u) return undefined;
    return new UpdateService({
      store: o.store,
      trust: u.trust ?? (() => this.trustStore?.current()),
      downloader: new ArtifactDownloader({
        baseUrl: o.hub.httpUrl,
        deviceId: o.deviceId,
        credential: o.credential,
        dir: u.config.stagingDir ?? join(u.dataDir, 'updates'),
        clock: o.clock,
        logger: o.logger,
      }),
      ...(o.brewer ? { brewer: o.brewer } : {}),
      ...(u.slots ? { slots: u.slots } : {}),
      model: o.model,
      busy: () => o.orders.busy,
      hubConnected,
      restartAgent: () => this.restart('agent'),
      clock: o.clock,
      logger: o.logger,
      health: u.config.healthCheck,
      timing: {
        ...(u.config.linkWaitMs ? { linkWaitMs: u.config.linkWaitMs } : {}),
        ...(u.config.bootWaitMs ? { bootWaitMs: u.config.bootWaitMs } : {}),
      },
    });
  }

  private restart(target: 'agent' | 'brewer'): void {
    if (target === 'brewer') {
      const brewer = this.o.brewer;
      if (!brewer) return;
      this.log.warn('restarting the brewer link (restart command)');
      void brewer
        .stop()
        .then(() => brewer.start())
        .catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'brewer restart failed'));
      return;
    }
    if (this.restartTimer) return;
    this.log.warn({ inMs: RESTART_GRACE_MS }, 'restarting the agent (restart command)');
    this.restartTimer = this.o.clock.setTimeout(() => {
      this.restartTimer = undefined;
      this.o.restartAgent();
    }, RESTART_GRACE_MS);
  }
}
