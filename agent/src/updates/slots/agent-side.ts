import { systemClock } from '@crema/protocol';
import type { Logger } from '../../log/logger';
import type { SyncState } from '../../sync/types';
import type { SlotName } from '../release-slots';
import { FileReleaseSlots, type LauncherChannel } from './file-slots';
import { type AliveMessage, ENV_HEARTBEAT_MS, ENV_ROOT, ENV_SLOT } from './messages';

/** How often the agent tells the launcher it is alive, unless the launcher says otherwise. */
const HEARTBEAT_MS = 5_000;

let current: FileReleaseSlots | undefined;

/**
 * The release slots of this process when `crema-agent-launcher` started it, else undefined (an agent run
 * by hand or in a test has no slots). The `upgrade_agent` handler takes its `ReleaseSlots` from here.
 */
export function launchedRelease(): FileReleaseSlots | undefined {
  return current;
}

type AgentProcess = Omit<LauncherChannel, 'send'> & {
  /** Present only when the parent opened an IPC channel. */
  send?: (message: AliveMessage | Parameters<LauncherChannel['send']>[0]) => unknown;
  connected?: boolean;
  once(event: 'disconnect', listener: () => void): unknown;
};

/**
 * Joins the launcher that started this process (CREMA_RELEASE_ROOT / CREMA_RELEASE_SLOT and an IPC channel):
 * heartbeats start now, and `onGone` runs if the launcher dies (its successor starts a fresh agent, so this one
 * must not keep running beside it). Returns undefined when no launcher started the process.
 */
export function attachToLauncher(o: {
  onGone: () => void;
  env?: NodeJS.ProcessEnv;
  proc?: AgentProcess;
}): FileReleaseSlots | undefined {
  const env = o.env ?? process.env;
  const root = env[ENV_ROOT];
  const slot = env[ENV_SLOT];
  if (!root || (slot !== 'a' && slot !== 'b')) return undefined;
  const proc = o.proc ?? (process as unknown as AgentProcess);
  const send = proc.send?.bind(proc);
  const channel: LauncherChannel | undefined = send
    ? { send, on: (e, l) => proc.on(e, l), off: (e, l) => proc.off(e, l) }
    : undefined;
  if (send) {
    const beat = () => {
      if (proc.connected !== false) send({ type: 'crema.alive' });
    };
    beat();
    const every = Number(env[ENV_HEARTBEAT_MS]);
    systemClock.setInterval(beat, Number.isFinite(every) && every > 0 ? every : HEARTBEAT_MS);
    // The launcher may have died while this module was still loading: the channel is closed already then.
    if (proc.connected === false) queueMicrotask(o.onGone);
    else proc.once('disconnect', o.onGone);
  }
  try {
    current = FileReleaseSlots.open({
      root,
      slot: slot as SlotName,
      ...(channel ? { launcher: channel } : {}),
    });
  } catch (err) {
    // The machine must sell even if the slots' metadata is unreadable: run without them (no confirmation, so a
    // trial start is rolled back by the launcher; an ordinary start needs none).
    process.stderr.write(`crema agent: release slots unavailable: ${(err as Error).message}\n`);
    current = undefined;
  }
  return current;
}

/**
 * Confirms this start once the agent takes orders and its hub link is connected (MQTT, or the HTTP fallback);
 * an agent with no hub configured confirms once started. On a trial start this makes the release permanent.
 */
export function confirmWhenConnected(
  slots: FileReleaseSlots,
  sync: { state: SyncState; onStateChange(listener: (state: SyncState) => void): () => void } | undefined,
  logger: Logger,
): void {
  const log = logger.child({ ns: 'agent:release' });
  const confirm = () =>
    slots.confirm().then(
      () => log.info({ ...slots.running(), outcome: slots.outcome().kind }, 'release confirmed'),
      (err: unknown) => log.error({ err: (err as Error).message }, 'release confirmation failed'),
    );
  if (sync?.state !== 'offline') {
    void confirm();
    return;
  }
  const off = sync.onStateChange((state) => {
    if (state === 'offline') return;
    off();
    void confirm();
  });
}
