import { ulid } from '@crema/protocol';
import mqtt, { type MqttClient } from 'mqtt';

/** What a scripted machine does with an image: install it, or fail its health check and roll back. */
export type ImageBehaviour = 'good' | 'fails-health-check';

/**
 * A fleet of scripted machines on the hub's real broker: each connects with its own credential, announces its
 * birth (model, firmware version) and answers `upgrade_firmware` with `update_progress` records the way an
 * agent does (downloading → … → succeeded, or → rolled_back with HEALTH_CHECK_FAILED), then a command result;
 * after a success it is born again on the new version. No download and no flash: the hub's side is under test.
 */
export class UpdaterFleet {
  readonly machines: ScriptedUpdater[] = [];

  constructor(
    private readonly url: string,
    private readonly behaviourOf: (version: string) => ImageBehaviour,
  ) {}

  async add(id: string, secret: string, firmwareVersion: string): Promise<void> {
    const m = new ScriptedUpdater(id, secret, firmwareVersion, this.behaviourOf);
    await m.connect(this.url);
    this.machines.push(m);
  }

  async stop(): Promise<void> {
    await Promise.all(this.machines.map((m) => m.stop()));
  }
}

export class ScriptedUpdater {
  /** Upgrade commands received: rollout id and the manifest's version. */
  readonly upgrades: { rolloutId: string; version: string }[] = [];
  private client: MqttClient | undefined;
  private seq = 0;
  private readonly done = new Set<string>();

  constructor(
    readonly id: string,
    private readonly secret: string,
    public firmwareVersion: string,
    private readonly behaviourOf: (version: string) => ImageBehaviour,
  ) {}

  async connect(url: string): Promise<void> {
    const client = await mqtt.connectAsync(url, {
      clientId: this.id,
      username: this.id,
      password: this.secret,
      clean: false,
      reconnectPeriod: 0,
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    await client.subscribeAsync(`crema/v1/${this.id}/+`, { qos: 1 });
    await this.birth();
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true);
  }

  private envelope(type: string, body: object, seq = 0): string {
    return JSON.stringify({ v: '1.0', id: ulid(), deviceId: this.id, seq, ts: Date.now(), type, body });
  }

  private birthBody() {
    return {
      model: 'cm-1',
      firmwareVersion: this.firmwareVersion,
      agentVersion: '1.0.0',
      capabilities: [],
      recipeSetVersion: 0,
      priceListVersion: 0,
      configVersion: 0,
      lastSeq: this.seq,
      bootId: ulid(),
    };
  }

  private birth(): Promise<unknown> {
    return (this.client as MqttClient).publishAsync(
      `crema/v1/${this.id}/status`,
      this.envelope('birth', this.birthBody()),
      { qos: 1, retain: true },
    );
  }

  /**
   * Queued on the connection, in order, without waiting for each PUBACK (as an outbox streams records).
   * Awaiting every PUBACK from inside the command handler stalled: under load some PUBACKs of the embedded
   * broker never arrived (seen 2026-12-03; reported to the lead).
   */
  private send(type: string, body: object, options: { retain?: boolean } = {}): void {
    const seq = type === 'birth' ? 0 : ++this.seq;
    const topic = type === 'birth' ? 'status' : type;
    (this.client as MqttClient).publish(`crema/v1/${this.id}/${topic}`, this.envelope(type, body, seq), {
      qos: 1,
      ...options,
    });
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (!topic.endsWith('/command')) return;
    const message = JSON.parse(payload.toString('utf8')) as { type: string; body: Record<string, unknown> };
    if (message.type !== 'command') return;
    const { commandId, kind, params } = message.body as {
      commandId: string;
      kind: string;
      params: { rolloutId: string; manifest: string };
    };
    if (kind !== 'upgrade_firmware' || this.done.has(commandId)) return;
    this.done.add(commandId);
    this.install(commandId, params);
  }

  private install(commandId: string, params: { rolloutId: string; manifest: string }): void {
    const manifest = JSON.parse(
      Buffer.from(params.manifest.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as {
      kind: string;
      version: string;
    };
    this.upgrades.push({ rolloutId: params.rolloutId, version: manifest.version });
    const base = { rolloutId: params.rolloutId, kind: manifest.kind, version: manifest.version };
    const from = this.firmwareVersion;
    const report = (stage: string, extra: object = {}) =>
      this.send('update_progress', { ...base, fromVersion: from, stage, at: Date.now(), ...extra });
    for (const stage of ['downloading', 'verifying', 'installing', 'rebooting', 'health_checking'])
      report(stage);
    if (this.behaviourOf(manifest.version) === 'good') {
      this.firmwareVersion = manifest.version;
      report('succeeded');
      this.send('command_result', { commandId, status: 'succeeded', at: Date.now() });
      this.send('birth', this.birthBody(), { retain: true });
    } else {
      report('rolled_back', { reason: 'HEALTH_CHECK_FAILED', detail: 'boiler never reached 92 °C' });
      this.send('command_result', {
        commandId,
        status: 'failed',
        code: 'HEALTH_CHECK_FAILED',
        message: 'rolled back to the previous slot',
        at: Date.now(),
      });
    }
  }
}
