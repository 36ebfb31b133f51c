import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, CommandResult } from '@crema/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandExecutor } from '../src/commands/executor';
import { createCommandHandlers } from '../src/commands/handlers';
import { silentLogger } from '../src/log/logger';
import { defaultRecipeSet } from '../src/orders/default-recipe-set';
import { salesLocked } from '../src/orders/order-service';
import { Store } from '../src/store/store';
import { systemClock } from '../src/time/clock';
import { ArtifactDownloader } from '../src/updates/download';
import { UpdateService } from '../src/updates/update-service';
import { ArtifactServer } from './helpers/artifact-server';
import { DirSlots } from './helpers/dir-slots';
import { waitFor } from './helpers/sim';
import { CREDENTIAL, DEVICE, manifestFor, progressOf, sign, trust, upgradeCommand } from './helpers/updates';

/**
 * The agent's own update: download and check the release, stage it in the inactive slot, activate, ask for a
 * restart; the next start (a new store, service and executor on the same data directory, as after the
 * launcher restarted the process) confirms a trial that reaches the hub or reports the launcher's rollback.
 */
const release = Buffer.from('#!/usr/bin/env node\n// crema agent 2.0.0\n'.padEnd(20_000, '.'));

let dir: string;
let server: ArtifactServer;
let slots: DirSlots;

type Process = {
  store: Store;
  updates: UpdateService;
  executor: CommandExecutor;
  restarts: number;
  stop(): Promise<void>;
};

/** One run of the agent process on the shared data directory. */
function boot(hubConnected: () => boolean): Process {
  const store = Store.open({
    dataDir: join(dir, 'data'),
    deviceId: DEVICE,
    outboxMaxBytes: 1 << 24,
    clock: systemClock,
    defaults: defaultRecipeSet('EUR'),
  });
  const proc = { restarts: 0 } as Process;
  const updates = new UpdateService({
    store,
    trust: () => trust,
    downloader: new ArtifactDownloader({
      baseUrl: server.url,
      deviceId: DEVICE,
      credential: CREDENTIAL,
      dir: join(dir, 'data', 'updates'),
      clock: systemClock,
      logger: silentLogger,
      retryDelayMs: 50,
    }),
    slots,
    model: 'crema-one',
    busy: () => false,
    hubConnected,
    restartAgent: () => {
      proc.restarts++;
    },
    clock: systemClock,
    logger: silentLogger,
  });
  const executor = new CommandExecutor({
    store,
    clock: systemClock,
    logger: silentLogger,
    handlers: createCommandHandlers({ store, updates }),
    busy: () => false,
    progress: () => {},
  });
  updates.start();
  executor.start();
  Object.assign(proc, {
    store,
    updates,
    executor,
    async stop() {
      const stopped = executor.stop();
      await updates.stop();
      await stopped;
      store.close();
    },
  });
  return proc;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crema-upd-agent-'));
  mkdirSync(join(dir, 'slots'));
  slots = new DirSlots(join(dir, 'slots'), '1.0.0');
  server = new ArtifactServer();
  server.credentials.set(DEVICE, CREDENTIAL);
  await server.start();
});

afterEach(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function agentCommand(over: Parameters<typeof manifestFor>[1] = {}): Promise<Command> {
  const manifest = manifestFor(release, { kind: 'agent', version: '2.0.0', models: ['crema-one'], ...over });
  server.files.set(manifest.sha256, release);
  return upgradeCommand(await sign(manifest), 'ro_agent', 'upgrade_agent');
}

/** Runs the command up to the restart the install asks for; returns the unfinished result. */
async function untilRestart(proc: Process, command: Command): Promise<{ result: Promise<CommandResult> }> {
  const result = proc.executor.receive(command);
  result.catch(() => undefined);
  await waitFor(() => proc.restarts > 0 || undefined, 10_000, 'restart requested');
  return { result };
}

describe('agent self-update', () => {
  it('stages and activates the release, restarts, and confirms the trial once it reaches the hub', async () => {
    const first = boot(() => true);
    const command = await agentCommand();
    await untilRestart(first, command);
    expect(slots.calls).toEqual(['stage 2.0.0', 'activate 2.0.0']);
    expect(slots.releaseBytes('b')).toEqual(release);
    expect(progressOf(first.store.db).at(-1)).toMatchObject({ stage: 'rebooting', version: '2.0.0' });
    expect(salesLocked(first.store.settings)).toBe(true);
    await first.stop();

    slots.launch('starts');
    let connected = false;
    const second = boot(() => connected);
    await new Promise((r) => setTimeout(r, 300));
    expect(slots.calls).not.toContain('confirm'); // not before the hub is reached
    connected = true;
    // The hub sends the unfinished command again on the new birth: it is answered with the outcome.
    const result = await second.executor.receive(command);
    expect(result).toMatchObject({ status: 'succeeded', output: { version: '2.0.0', fromVersion: '1.0.0' } });
    expect(slots.calls.at(-1)).toBe('confirm');
    expect(slots.running()).toEqual({ slot: 'b', version: '2.0.0' });
    const stages = progressOf(second.store.db).map((p) => p.stage);
    expect(stages.filter((s) => s === 'succeeded')).toHaveLength(1);
    expect(stages).toContain('health_checking');
    expect(salesLocked(second.store.settings)).toBe(false);
    await second.stop();

    // A third start reports nothing again.
    const third = boot(() => true);
    await new Promise((r) => setTimeout(r, 200));
    expect(progressOf(third.store.db).filter((p) => p.stage === 'succeeded')).toHaveLength(1);
    await third.stop();
  }, 30_000);

  it('reports rolled_back with the reason when the launcher gave up on the trial', async () => {
    const first = boot(() => true);
    const command = await agentCommand();
    await untilRestart(first, command);
    await first.stop();

    slots.launch({ fails: 'the new release did not reach ready within 60 s' });
    const second = boot(() => true);
    const result = await second.executor.receive(command);
    expect(result).toMatchObject({ status: 'failed', code: 'UPDATE_BOOT_FAILED' });
    const last = progressOf(second.store.db).at(-1);
    expect(last).toMatchObject({ stage: 'rolled_back', reason: 'UPDATE_BOOT_FAILED', version: '2.0.0' });
    expect(last?.detail).toMatch(/did not reach ready/);
    expect(slots.running()).toEqual({ slot: 'a', version: '1.0.0' });
    expect(slots.calls).not.toContain('confirm');
    await second.stop();
  }, 30_000);

  it('switches again when the activation did not survive the restart', async () => {
    const first = boot(() => true);
    const command = await agentCommand();
    await untilRestart(first, command);
    await first.stop();
    slots.forgetPending();
    slots.launch('starts'); // nothing pending: the old release starts normally

    const second = boot(() => true);
    const { result: pending } = await untilRestart(second, command);
    expect(slots.calls.filter((c) => c === 'activate 2.0.0')).toHaveLength(2);
    expect(slots.calls.filter((c) => c.startsWith('stage'))).toHaveLength(1);
    await second.stop();
    await expect(pending).rejects.toBeDefined();

    slots.launch('starts');
    const third = boot(() => true);
    expect(await third.executor.receive(command)).toMatchObject({ status: 'succeeded' });
    expect(progressOf(third.store.db).filter((p) => p.stage === 'succeeded')).toHaveLength(1);
    await third.stop();
  }, 30_000);

  it.each([
    ['another machine model', { models: ['cm-9'] }, 'UPDATE_MODEL_MISMATCH'],
    ['an older version', { version: '0.9.0' }, 'UPDATE_DOWNGRADE'],
    ['a brewer image sent as an agent release', { kind: 'brewer-firmware' as const }, 'UPDATE_KIND_MISMATCH'],
  ])('refuses %s before anything is staged', async (_n, over, code) => {
    const proc = boot(() => true);
    const result = await proc.executor.receive(await agentCommand(over));
    expect(result).toMatchObject({ status: 'failed', code });
    expect(slots.calls).toEqual([]);
    expect(server.requests).toHaveLength(0);
    expect(progressOf(proc.store.db).at(-1)).toMatchObject({ stage: 'failed', reason: code });
    await proc.stop();
  });
});
