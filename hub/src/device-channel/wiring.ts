import type { Logger } from 'pino';
import type { ApiDeps } from '../api/deps';
import { loadSigningKey } from '../operations/recipes/signing-key';
import { Operations } from '../operations/runtime';
import { attachedOperations, attachOperations } from '../operations/wiring';
import { attachDeviceChannel, type ChannelGateway, DeviceChannel, detachDeviceChannel } from './channel';

export interface DeviceChannelWiring {
  deps: ApiDeps;
  gateway: ChannelGateway;
  dataDir: string;
  logger: Logger;
  /** `CREMA_SIGNING_KEY` is read from here when the channel has to start the operations runtime. */
  env?: NodeJS.ProcessEnv;
  sweepIntervalMs?: number;
}

export interface RunningDeviceChannel {
  channel: DeviceChannel;
  ops: Operations;
  stop(): Promise<void>;
}

/**
 * Starts the device channel of a hub: the command dispatcher and the device HTTP routes' backend. It needs
 * the operations runtime fed with the gateway's fleet events (it applies progress and results, and runs the
 * time-to-live sweep); when none is attached to `deps` yet, it attaches and starts one, with the signing key
 * from the data directory, and stops it again in `stop()`.
 */
export function startDeviceChannel(w: DeviceChannelWiring): RunningDeviceChannel {
  const clock = w.deps.clock;
  let ops = attachedOperations(w.deps);
  let ownsOps = false;
  if (!ops) {
    ops = attachOperations(
      w.deps,
      new Operations({
        db: w.deps.db.kysely,
        kind: w.deps.db.kind,
        clock,
        logger: w.logger,
        signingKey: loadSigningKey(w.dataDir, (w.env ?? process.env).CREMA_SIGNING_KEY),
        fleetEvents: w.gateway.events,
      }),
    );
    ops.start();
    ownsOps = true;
  }
  const channel = new DeviceChannel({
    db: w.deps.db,
    gateway: w.gateway,
    ops,
    clock,
    logger: w.logger,
    ...(w.sweepIntervalMs === undefined ? {} : { sweepIntervalMs: w.sweepIntervalMs }),
  });
  attachDeviceChannel(w.deps, channel);
  channel.start();
  const running = ops;
  return {
    channel,
    ops: running,
    async stop() {
      detachDeviceChannel(w.deps);
      await channel.stop();
      if (ownsOps) await running.stop();
    },
  };
}
