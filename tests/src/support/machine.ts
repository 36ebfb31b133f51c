import { join } from 'node:path';
import {
  Agent,
  type AgentConfigInput,
  type CommandHandlers,
  parseConfig,
  type SyncTuning,
} from '@crema/agent';
import { type Simulator, startSimulator } from '@crema/firmware-sim';
import type { Command, CommandProgress, CommandResult } from '@crema/protocol';
import { silent } from './hub';

const TUNING: Partial<SyncTuning> = {
  heartbeatIntervalS: 2,
  keepaliveS: 5,
  connectTimeoutMs: 2_000,
  reconnect: { initialMs: 200, maxMs: 1_000 },
  retry: { initialMs: 200, maxMs: 1_000 },
  ackTimeoutMs: 3_000,
  pollMs: 50,
};

const hostPort = (endpoint: string) => {
  const i = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) };
};

/**
 * One coffee machine as it runs in the field: firmware-sim (brewer, payment terminal, Modbus boards over TCP)
 * and the agent with its SQLite ledger, configured with a `hub` section so it links to the hub with its own
 * wiring; this harness only observes it (delivered commands, progress, handler runs) through the agent's hooks.
 * The agent process can be restarted on the same data directory; the simulated hardware stays.
 */
export class TestMachine {
  sim: Simulator | undefined;
  agent: Agent | undefined;
  /** Every command delivered (MQTT or HTTP poll, duplicates included), across restarts. */
  readonly delivered: Command[] = [];
  /** Command ids whose handler actually ran, across restarts. */
  readonly executed: string[] = [];
  readonly results: Promise<CommandResult>[] = [];
  /** Progress reports sent, and command ids whose handler ran while a sale was in progress. */
  readonly progress: CommandProgress[] = [];
  readonly ranWhileBusy: string[] = [];
  /** The hub's recipe-bundle key (SPKI PEM), when the machine is configured with one. */
  bundleKey: string | undefined;
  /** A claim code to configure instead of the credential (`hub.claimCode`; the credential is then unused). */
  claimCode: string | undefined;
  /** Simulated seconds per real second of the firmware-sim (set before the first `start`). */
  timeScale = 20;
  /** Simulated ms between the checks of a brewer step (set before the first `start`); default: the sim's. */
  stepTickMs: number | undefined;
  /** The agent's cleaning policy (set before `start`); default: the agent's. */
  maintenance: AgentConfigInput['maintenance'];

  constructor(
    readonly deviceId: string,
    readonly dataDir: string,
    readonly hub: { mqttUrl: string; httpUrl: string },
    public credential: string,
  ) {}

  get store() {
    const store = this.agent?.store;
    if (!store) throw new Error('agent not running');
    return store;
  }

  /** The agent's own sync link, while it runs. */
  get sync() {
    return this.agent?.hubLink?.sync;
  }

  /** The agent's own command executor, while it runs. */
  get executor() {
    return this.agent?.hubLink?.executor;
  }

  async start(tuning: Partial<SyncTuning> = {}): Promise<void> {
    this.sim ??= await startSimulator({
      pty: false,
      timeScale: this.timeScale,
      initialTempC: 93,
      controlPort: false,
      seed: 11,
      ...(this.stepTickMs === undefined ? {} : { stepTickMs: this.stepTickMs }),
    });
    const e = this.sim.endpoints;
    const config = parseConfig({
      deviceId: this.deviceId,
      model: 'cm-1',
      dataDir: join(this.dataDir, 'agent'),
      drivers: {
        brewer: { transport: 'tcp', ...hostPort(e.serial.tcp) },
        payment: { transport: 'tcp', ...hostPort(e.payment.tcp) },
        modbus: { transport: 'tcp', ...hostPort(e.modbus.tcp) },
      },
      api: { port: 0 },
      orders: { reconcileIntervalMs: 500 },
      ...(this.maintenance ? { maintenance: this.maintenance } : {}),
      hub: {
        mqttUrl: this.hub.mqttUrl,
        httpUrl: this.hub.httpUrl,
        ...(this.claimCode === undefined ? { credential: this.credential } : { claimCode: this.claimCode }),
        ...(this.bundleKey ? { publicKey: this.bundleKey } : {}),
        sync: { ...TUNING, ...tuning },
      },
    });
    const agent = new Agent({
      config,
      logger: silent,
      hubHooks: {
        onCommand: (command, result) => {
          this.delivered.push(command);
          this.results.push(result);
        },
        onProgress: (p) => this.progress.push(p),
        wrapHandlers: (handlers) => this.counted(handlers),
        idleCheckMs: 50,
      },
    });
    await agent.start();
    this.agent = agent;
  }

  /** Stops the agent process (its hub link first, so nothing is sent from a closed store). */
  async stopAgent(): Promise<void> {
    await this.agent?.stop();
    this.agent = undefined;
  }

  async stop(): Promise<void> {
    await this.stopAgent();
    await this.sim?.stop();
    this.sim = undefined;
  }

  /** Sells `n` espressos one after the other through the agent's order service (card payments). */
  async sell(n: number): Promise<string[]> {
    const orders = this.agent?.orders;
    if (!orders) throw new Error('agent not running');
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      this.restockIfLow();
      const order = orders.create({ recipeId: 'espresso', size: 'M' });
      ids.push(order.id);
      await orders.idle();
      this.sync?.kick();
    }
    return ids;
  }

  /**
   * A technician's visit before supplies run out or the waste bin fills (a cm-1 holds 100 cups), so long runs
   * of sales are never refused for materials.
   */
  private restockIfLow(): void {
    const model = this.sim?.model;
    if (!model) return;
    const l = model.levels;
    const low = l.cups < 10 || l.water_ml < 1_000 || l.beans_g < 200 || l.milk_ml < 500 || l.waste_g > 400;
    if (low) model.refill();
  }

  /** The agent's ledger: orders with their final state, and the record sequence it produced. */
  ledger(): { orders: { id: string; state: string; amount: number }[]; lastSeq: number; depth: number } {
    const store = this.store;
    const orders = store.db.prepare('SELECT id, state, amount FROM orders ORDER BY created_at').all() as {
      id: string;
      state: string;
      amount: number;
    }[];
    const stats = store.outbox.stats();
    return { orders, lastSeq: stats.lastSeq, depth: stats.depth };
  }

  private counted(handlers: CommandHandlers): CommandHandlers {
    const out: Record<string, unknown> = {};
    for (const [kind, handler] of Object.entries(handlers)) {
      if (!handler) continue;
      out[kind] = {
        ...handler,
        run: (command: Command, ctx: unknown) => {
          this.executed.push(command.commandId);
          if (this.agent?.orders?.busy) this.ranWhileBusy.push(command.commandId);
          return (handler.run as (c: Command, x: unknown) => Promise<unknown>)(command, ctx);
        },
      };
    }
    return out as CommandHandlers;
  }
}
