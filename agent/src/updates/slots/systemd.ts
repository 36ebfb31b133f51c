import { execFile } from 'node:child_process';

/** Something that tells the service manager about the launcher (READY=1, WATCHDOG=1, STATUS=…). */
export type ServiceNotifier = {
  notify(...states: string[]): void;
  /** The watchdog period the manager expects pings within (ms), or undefined when there is no watchdog. */
  readonly watchdogMs: number | undefined;
};

/**
 * systemd's notify protocol through `systemd-notify`: Node has no unix datagram sockets, so each message is a
 * short-lived `systemd-notify` process (the unit needs `NotifyAccess=all`). Since systemd 246 it waits until the
 * manager has processed the message (a barrier), so the message is not lost when the sender exits first.
 * Without NOTIFY_SOCKET (not started by systemd) it does nothing.
 */
export function systemdNotifier(
  env: NodeJS.ProcessEnv,
  onError: (err: Error) => void,
  command = 'systemd-notify',
): ServiceNotifier {
  const socket = env.NOTIFY_SOCKET;
  const usec = Number(env.WATCHDOG_USEC);
  const watchdogPid = env.WATCHDOG_PID === undefined ? undefined : Number(env.WATCHDOG_PID);
  const watchdogMs =
    socket && Number.isFinite(usec) && usec > 0 && (watchdogPid === undefined || watchdogPid === process.pid)
      ? usec / 1000
      : undefined;
  return {
    watchdogMs,
    notify(...states: string[]) {
      if (!socket) return;
      execFile(command, states, { env: { ...env }, timeout: 5_000 }, (err) => {
        if (err) onError(err);
      });
    },
  };
}
