import {
  Backoff,
  type BodyOf,
  type Command,
  type CommandProgress,
  createUlidGenerator,
  type Envelope,
  encodeEnvelope,
  MessageCatalog,
  type MessageType,
  makeEnvelope,
  type RemoteSettings,
  topicForType,
} from '@crema/protocol';
import type { Logger } from '../log/logger';
import type { ClockTimer } from '../time/clock';
import { type DrainerStats, OutboxDrainer } from './drainer';
import { DeviceHttpClient } from './http-client';
import { MqttLink, type MqttPublish } from './mqtt-link';
import { httpSender, mqttSender } from './senders';
import { type SyncOptions, type SyncState, type SyncTuning, withDefaults } from './types';

/**
 * The agent's link to the hub. MQTT first (persistent session, last will, birth on every connect, heartbeat,
 * downlink commands and acks); when MQTT has been unreachable for `httpFallbackAfterMs` the outbox drains over
 * the hub's device HTTP endpoints and commands are polled, until MQTT is back. The outbox drainer decides what
 * is sent and deletes only what the hub acknowledged, whichever path carried it.
 */
export class Sync {
  private readonly t: SyncTuning;
  private readonly log: Logger;
  private readonly ulid: () => string;
  private readonly drainer: OutboxDrainer;
  private readonly mqtt: MqttLink | undefined;
  private readonly http: DeviceHttpClient | undefined;
  private readonly pollBackoff: Backoff;
  private readonly listeners = new Set<(state: SyncState) => void>();
  private current: SyncState = 'offline';
  private publish: MqttPublish | undefined;
  private httpActive = false;
  private httpOk = false;
  private heartbeat: ClockTimer | undefined;
  private fallback: ClockTimer | undefined;
  private poll: ClockTimer | undefined;
  private running = false;
  private startedAt = 0;
  private bootId = '';

  constructor(private readonly o: SyncOptions) {
    this.t = withDefaults(o.tuning);
    this.log = o.logger.child({ ns: 'agent:sync' });
    this.ulid = o.ulid ?? createUlidGenerator(() => o.clock.now());
    this.pollBackoff = new Backoff({ factor: 2, ...this.t.retry, jitter: true, random: o.random });
    this.drainer = new OutboxDrainer({
      outbox: o.outbox,
      clock: o.clock,
      logger: o.logger,
      window: this.t.window,
      chunk: this.t.chunk,
      ackTimeoutMs: this.t.ackTimeoutMs,
      pollMs: this.t.pollMs,
      ratePerS: this.t.ratePerS,
      retry: this.t.retry,
      random: o.random,
    });
    this.mqtt = o.mqttUrl
      ? new MqttLink({
          url: o.mqttUrl,
          deviceId: o.deviceId,
          credential: o.credential,
          clock: o.clock,
          logger: o.logger,
          keepaliveS: this.t.keepaliveS,
          connectTimeoutMs: this.t.connectTimeoutMs,
          reconnect: this.t.reconnect,
          random: o.random,
          will: () => this.encode('death', { reason: 'lost', bootId: this.bootId }),
          onUp: (publish) => this.mqttUp(publish),
          onDown: () => this.mqttDown(),
          onMessage: (envelope) => this.downlink(envelope, 'mqtt'),
        })
      : undefined;
    this.http = o.httpUrl
      ? new DeviceHttpClient({
          baseUrl: o.httpUrl,
          deviceId: o.deviceId,
          credential: o.credential,
          clock: o.clock,
          ulid: this.ulid,
          timeoutMs: this.t.httpTimeoutMs,
          fetch: o.fetch,
          onHubTime: o.onHubTime,
        })
      : undefined;
  }

  /** `mqtt` or `http` while the hub is reachable on that path, `offline` otherwise. */
  get state(): SyncState {
    return this.current;
  }

  get stats(): DrainerStats & { state: SyncState } {
    return { ...this.drainer.stats, state: this.current };
  }

  get id(): string {
    return this.bootId;
  }

  onStateChange(listener: (state: SyncState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.o.clock.now();
    this.bootId = `boot_${this.ulid()}`;
    this.drainer.start();
    this.restartHeartbeat();
    this.mqtt?.start();
    if (!this.mqtt) this.enterHttp();
    else this.armFallback();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.clear('heartbeat');
    this.clear('fallback');
    this.leaveHttp();
    this.drainer.stop();
    const goodbye = this.encode('death', { reason: 'shutdown', bootId: this.bootId });
    await this.mqtt?.stop({ topic: topicForType(this.o.deviceId, 'death'), payload: goodbye });
    this.publish = undefined;
    this.setState('offline');
  }

  /** Sends new outbox records now instead of at the next poll (call after appending a live record). */
  kick(): void {
    this.drainer.kick();
  }

  /** Remote settings that concern the link (from a `set_config` command). */
  applySettings(settings: RemoteSettings): void {
    if (settings.syncRatePerS !== undefined) this.drainer.setRate(settings.syncRatePerS);
    if (settings.heartbeatIntervalS !== undefined) {
      this.t.heartbeatIntervalS = settings.heartbeatIntervalS;
      if (this.running) this.restartHeartbeat();
    }
  }

  /** Command progress is not a record: sent once on whichever path is up, dropped when offline. */
  publishProgress(progress: CommandProgress): void {
    void this.sendMessage('command_progress', progress);
  }

  private mqttUp(publish: MqttPublish): void {
    this.clear('fallback');
    this.leaveHttp();
    this.publish = publish;
    this.drainer.attach(
      mqttSender(publish, {
        deviceId: this.o.deviceId,
        mode: this.t.batchMode,
        ulid: this.ulid,
        now: () => this.o.clock.now(),
      }),
    );
    this.setState('mqtt');
    void this.sendMessage('birth', this.birth());
  }

  private mqttDown(): void {
    this.publish = undefined;
    this.drainer.detach();
    this.setState(this.httpActive && this.httpOk ? 'http' : 'offline');
    if (this.running) this.armFallback();
  }

  private downlink(envelope: Envelope, via: 'mqtt' | 'http'): void {
    this.o.onHubTime?.(envelope.ts);
    if (envelope.type === 'ack') this.drainer.handleAck(envelope.body);
    else if (envelope.type === 'command') this.deliver(envelope.body, via);
  }

  private deliver(command: Command, via: 'mqtt' | 'http'): void {
    try {
      this.o.onCommand(command, via);
    } catch (err) {
      this.log.error({ commandId: command.commandId, err: (err as Error).message }, 'command handler threw');
    }
  }

  private armFallback(): void {
    if (!this.http || this.httpActive || this.fallback) return;
    this.fallback = this.o.clock.setTimeout(() => {
      this.fallback = undefined;
      if (this.running && !this.mqtt?.connected) this.enterHttp();
    }, this.t.httpFallbackAfterMs);
  }

  private enterHttp(): void {
    const http = this.http;
    if (!http || this.httpActive) return;
    this.httpActive = true;
    this.httpOk = false;
    this.pollBackoff.reset();
    this.log.info('mqtt unreachable; using the HTTP fallback');
    const sender = httpSender(http, (ack) => {
      this.httpReachable(true);
      this.drainer.handleAck(ack);
    });
    this.drainer.attach({
      ...sender,
      send: (records) => sender.send(records).catch((err: unknown) => this.httpFailed(err)),
    });
    this.schedulePoll(0);
  }

  private leaveHttp(): void {
    if (!this.httpActive) return;
    this.httpActive = false;
    this.httpOk = false;
    this.clear('poll');
  }

  private schedulePoll(ms: number): void {
    this.clear('poll');
    this.poll = this.o.clock.setTimeout(() => {
      this.poll = undefined;
      void this.pollOnce();
    }, ms);
  }

  private async pollOnce(): Promise<void> {
    const http = this.http;
    if (!http || !this.httpActive) return;
    let next = this.t.httpPollMs;
    try {
      const commands = await http.pollCommands();
      if (!this.httpActive) return;
      this.httpReachable(true);
      this.pollBackoff.reset();
      for (const command of commands) this.deliver(command, 'http');
    } catch (err) {
      this.httpReachable(false);
      next = this.pollBackoff.next();
      this.log.warn({ err: (err as Error).message, retryInMs: next }, 'command poll failed');
    }
    if (this.httpActive) this.schedulePoll(next);
  }

  private httpFailed(err: unknown): never {
    this.httpReachable(false);
    throw err;
  }

  private httpReachable(ok: boolean): void {
    if (!this.httpActive) return;
    const wasOk = this.httpOk;
    this.httpOk = ok;
    if (ok === wasOk) return;
    this.setState(ok ? 'http' : 'offline');
    if (ok) void this.sendMessage('birth', this.birth());
  }

  /** Sends a heartbeat now (the machine's state changed in a way the hub should see before the next one). */
  beat(): void {
    if (this.running) void this.sendMessage('heartbeat', this.heartbeatBody());
  }

  private restartHeartbeat(): void {
    this.clear('heartbeat');
    this.heartbeat = this.o.clock.setInterval(
      () => void this.sendMessage('heartbeat', this.heartbeatBody()),
      this.t.heartbeatIntervalS * 1000,
    );
  }

  private birth(): BodyOf<'birth'> {
    return { ...this.o.identity(), lastSeq: this.o.outbox.stats().lastSeq, bootId: this.bootId };
  }

  private heartbeatBody(): BodyOf<'heartbeat'> {
    const stats = this.o.outbox.stats();
    return {
      ...this.o.status(),
      uptimeS: Math.max(0, Math.floor((this.o.clock.now() - this.startedAt) / 1000)),
      outboxDepth: stats.depth,
      lastSeq: stats.lastSeq,
    };
  }

  /** Sends a non-record message on MQTT when connected, else over HTTP when that path is in use. */
  private async sendMessage<T extends MessageType>(type: T, body: BodyOf<T>): Promise<boolean> {
    try {
      const payload = this.encode(type, body);
      const rule = MessageCatalog[type];
      if (this.publish) {
        await this.publish(topicForType(this.o.deviceId, type), payload, {
          qos: rule.qos,
          retain: rule.retain,
        });
        return true;
      }
      if (this.http && this.httpActive) {
        await this.http.postMessage(JSON.parse(payload) as Envelope);
        return true;
      }
    } catch (err) {
      this.log.debug({ type, err: (err as Error).message }, 'message not sent');
    }
    return false;
  }

  private encode<T extends MessageType>(type: T, body: BodyOf<T>): string {
    const envelope = makeEnvelope(
      type,
      { id: this.ulid(), deviceId: this.o.deviceId, ts: this.o.clock.now() },
      body,
    );
    return encodeEnvelope(envelope as Envelope);
  }

  private setState(state: SyncState): void {
    if (state === this.current) return;
    this.current = state;
    this.log.info({ state }, 'sync state');
    for (const l of this.listeners) l(state);
  }

  private clear(which: 'heartbeat' | 'fallback' | 'poll'): void {
    const timer = this[which];
    if (!timer) return;
    if (which === 'heartbeat') this.o.clock.clearInterval(timer);
    else this.o.clock.clearTimeout(timer);
    this[which] = undefined;
  }
}
