import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Simulator, startSimulator, TestImages } from '@crema/firmware-sim';
import {
  type ArtifactManifest,
  type Command,
  type CommandProgress,
  generateSigningKey,
  manifestBytes,
  sha256Hex,
  signManifest,
  type TrustStore,
  type UpdateProgress,
} from '@crema/protocol';
import type Database from 'better-sqlite3';
import { CommandExecutor } from '../../src/commands/executor';
import { createCommandHandlers } from '../../src/commands/handlers';
import { SerialBrewer } from '../../src/drivers/brewer/serial-brewer';
import { SerialTransport } from '../../src/drivers/transport/serial';
import { TcpTransport } from '../../src/drivers/transport/tcp';
import { silentLogger } from '../../src/log/logger';
import { defaultRecipeSet } from '../../src/orders/default-recipe-set';
import { Store } from '../../src/store/store';
import { systemClock } from '../../src/time/clock';
import { ArtifactDownloader } from '../../src/updates/download';
import { UpdateService } from '../../src/updates/update-service';
import { ArtifactServer } from './artifact-server';
import { hostPort } from './sim';

export const DEVICE = 'dev-upd-1';
export const CREDENTIAL = 'device-credential-0123456789';
export const release = generateSigningKey('release-1');
export const trust: TrustStore = { keys: [release.trusted], revoked: [] };

export function manifestFor(image: Uint8Array, over: Partial<ArtifactManifest> = {}): ArtifactManifest {
  return {
    kind: 'brewer-firmware',
    version: '1.5.0',
    models: ['cm-1'],
    size: image.length,
    sha256: sha256Hex(image),
    minVersion: '1.0.0',
    notes: 'test image',
    createdAt: 1_795_000_000_000,
    ...over,
  };
}

export const sign = (m: ArtifactManifest, key: { privateKey: KeyObject; kid: string } = release) =>
  signManifest(manifestBytes(m), key.privateKey, key.kid);

let n = 0;
export function upgradeCommand(
  manifest: string,
  rolloutId = 'ro_1',
  kind: 'upgrade_firmware' | 'upgrade_agent' = 'upgrade_firmware',
): Command {
  n += 1;
  const now = Date.now();
  return {
    commandId: `cmd-${process.pid}-${n}`,
    idempotencyKey: `key-${process.pid}-${n}`,
    issuedAt: now,
    expiresAt: now + 3_600_000,
    kind,
    params: { rolloutId, manifest },
  } as Command;
}

/** Every `update_progress` record queued in a store, in order. */
export function progressOf(db: Database.Database): UpdateProgress[] {
  const rows = db.prepare("SELECT payload FROM outbox WHERE type = 'update_progress' ORDER BY seq").all() as {
    payload: string;
  }[];
  return rows.map((r) => (JSON.parse(r.payload) as { body: UpdateProgress }).body);
}

export type Machine = {
  sim: Simulator;
  store: Store;
  brewer: SerialBrewer;
  server: ArtifactServer;
  updates: UpdateService;
  executor: CommandExecutor;
  progress: CommandProgress[];
  /** Where the update service stages artifacts. */
  stagingDir: string;
  setBusy(busy: boolean): void;
  stop(): Promise<void>;
};

/**
 * One simulated machine (real simulator on TCP or a pty, 20× time, boiler hot) with the agent's store, brewer
 * driver, update service and command executor, and an artifact server holding `files`.
 */
export async function updatableMachine(
  opts: { pty?: boolean; initialTempC?: number; flashMsPerChunk?: number } = {},
): Promise<Machine> {
  const sim = await startSimulator({
    pty: opts.pty ?? false,
    timeScale: 20,
    initialTempC: opts.initialTempC ?? 92,
    controlPort: false,
    seed: 11,
    bootTiming: { bootMs: 800, watchdogMs: 2000, flashMsPerChunk: opts.flashMsPerChunk ?? 0 },
  });
  const dir = mkdtempSync(join(tmpdir(), 'crema-upd-'));
  const clock = systemClock;
  const store = Store.open({
    dataDir: dir,
    deviceId: DEVICE,
    outboxMaxBytes: 1 << 24,
    clock,
    defaults: defaultRecipeSet('EUR'),
  });
  const transport = opts.pty
    ? new SerialTransport(sim.endpoints.serial.pty ?? '')
    : (() => {
        const { host, port } = hostPort(sim.endpoints.serial.tcp);
        return new TcpTransport(host, port);
      })();
  const brewer = new SerialBrewer({
    transport,
    clock,
    logger: silentLogger,
    requestTimeoutMs: 1000,
    backoff: { initialMs: 100, maxMs: 500 },
    watchdog: { idleMs: 1000, deadMs: 5000 },
  });
  await brewer.start();
  const server = new ArtifactServer();
  server.credentials.set(DEVICE, CREDENTIAL);
  await server.start();
  let busy = false;
  const downloader = new ArtifactDownloader({
    baseUrl: server.url,
    deviceId: DEVICE,
    credential: CREDENTIAL,
    dir: join(dir, 'staging'),
    clock,
    logger: silentLogger,
    retryDelayMs: 50,
  });
  const updates = new UpdateService({
    store,
    trust: () => trust,
    downloader,
    brewer,
    model: 'crema-one',
    busy: () => busy,
    clock,
    logger: silentLogger,
    health: { heatTimeoutMs: 6_000, settleMs: 500, rinseTimeoutMs: 5_000 },
    timing: { linkWaitMs: 20_000, bootWaitMs: 20_000 },
    idleCheckMs: 50,
  });
  updates.start();
  const progress: CommandProgress[] = [];
  const executor = new CommandExecutor({
    store,
    clock,
    logger: silentLogger,
    handlers: createCommandHandlers({ store, brewer, updates }),
    busy: () => busy,
    progress: (p) => progress.push(p),
    idleCheckMs: 50,
  });
  executor.start();
  return {
    sim,
    store,
    brewer,
    server,
    updates,
    executor,
    progress,
    stagingDir: join(dir, 'staging'),
    setBusy: (b) => {
      busy = b;
    },
    async stop() {
      await executor.stop();
      await updates.stop();
      await brewer.stop();
      await server.stop();
      await sim.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { TestImages };
