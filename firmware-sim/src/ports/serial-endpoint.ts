import { SerialPort } from 'serialport';
import { type ByteStream, serialStream } from '../link/stream';
import type { Logger } from '../log';
import { type Clock, type ClockTimer, systemClock } from '../time/clock';
import { PtyPair } from './pty';

/** Restart delays of a dead pty bridge: doubling from the first, capped at the last. */
const RESTART_FIRST_MS = 100;
const RESTART_MAX_MS = 5_000;

/**
 * A device port on a pseudo-terminal: the simulator side is opened with the real `serialport` package, the
 * agent gets `path`. `stop()` unplugs it (the pty disappears), `start()` plugs it back in under the same
 * path. If the bridge dies on its own (socat killed), the endpoint notices and restarts it under the same
 * path, as a device that is powered keeps answering once its cable is back.
 */
export class SerialEndpoint {
  private readonly pty: PtyPair;
  private port: SerialPort | undefined;
  private wanted = false;
  private restartTimer: ClockTimer | undefined;
  private restartDelayMs = RESTART_FIRST_MS;
  /** Bridges restarted after dying on their own, for tests and logs. */
  restarts = 0;

  constructor(
    readonly path: string,
    private readonly baudRate: number,
    private readonly onStream: (stream: ByteStream) => void,
    private readonly logger: Logger,
    /** Real time: the bridge is a real process, whatever the simulation's time scale. */
    private readonly clock: Clock = systemClock,
  ) {
    this.pty = new PtyPair(`${path}.sim`, path, logger);
  }

  /** The socat process carrying the link, while it runs. */
  get bridgePid(): number | undefined {
    return this.pty.pid;
  }

  async start(): Promise<void> {
    this.wanted = true;
    await this.open();
    this.restartDelayMs = RESTART_FIRST_MS;
  }

  async stop(): Promise<void> {
    this.wanted = false;
    if (this.restartTimer) this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.closePort();
    await this.pty.stop();
  }

  private async open(): Promise<void> {
    await this.pty.start((reason) => this.died(reason));
    const port = new SerialPort({ path: this.pty.devicePath, baudRate: this.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    if (!this.wanted) {
      // stop() ran while this was opening: it already took the bridge down.
      await new Promise<void>((resolve) => port.close(() => resolve()));
      return;
    }
    port.on('error', (e) => this.logger.warn({ err: e, path: this.path }, 'serial error'));
    this.port = port;
    this.onStream(serialStream(port));
  }

  private async closePort(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private died(reason: string): void {
    if (!this.wanted || this.restartTimer) return;
    this.logger.warn({ path: this.path, reason }, 'pty bridge died; restarting it');
    void this.closePort().then(() => this.scheduleRestart());
  }

  private scheduleRestart(): void {
    if (!this.wanted || this.restartTimer) return;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(delay * 2, RESTART_MAX_MS);
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.wanted) return;
      this.pty
        .stop()
        .then(() => (this.wanted ? this.open() : undefined))
        .then(() => {
          if (!this.wanted) return;
          this.restarts++;
          this.restartDelayMs = RESTART_FIRST_MS;
          this.logger.info({ path: this.path }, 'pty bridge restarted');
        })
        .catch((err: Error) => {
          this.logger.warn({ path: this.path, err: err.message }, 'pty bridge restart failed');
          void this.closePort().then(() => this.scheduleRestart());
        });
    }, delay);
  }
}
