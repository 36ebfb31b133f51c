import { randomBytes } from 'node:crypto';
import { CHANNELS, type Channel, MESSAGE_TYPES, MessageCatalog, topicFor } from '@crema/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { z } from 'zod';
import { HubError } from '../errors';
import { redact } from './link';

/** Mosquitto 2's dynamic security plugin: commands in, answers out. */
export const DYNSEC_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${DYNSEC_TOPIC}/response`;

const ResponsesSchema = z.object({
  responses: z.array(
    z.object({
      command: z.string(),
      error: z.string().optional(),
      correlationData: z.string().optional(),
      data: z.unknown().optional(),
    }),
  ),
});
export type DynsecResponse = z.infer<typeof ResponsesSchema>['responses'][number];
export type DynsecCommand = { command: string } & Record<string, unknown>;

const channelsOf = (dir: 'up' | 'down') =>
  CHANNELS.filter((channel: Channel) =>
    MESSAGE_TYPES.some((t) => MessageCatalog[t].channel === channel && MessageCatalog[t].dir === dir),
  );

/** The role that confines one device: exactly the embedded broker's `isDeviceTopicAllowed`. */
export function deviceRoleName(deviceId: string): string {
  return `crema-device-${deviceId}`;
}

/**
 * The ACL of one device: publish its own uplink channels, subscribe to its own downlink (`crema/v1/<id>/+`
 * or one channel). Topics are literal (device ids contain no wildcard), and everything else falls to the
 * plugin's default: no publishing, no subscribing.
 */
export function deviceAcls(deviceId: string): { acltype: string; topic: string; allow: boolean }[] {
  return [
    ...channelsOf('up').map((c) => ({
      acltype: 'publishClientSend',
      topic: topicFor(deviceId, c),
      allow: true,
    })),
    { acltype: 'subscribeLiteral', topic: `crema/v1/${deviceId}/+`, allow: true },
    ...channelsOf('down').map((c) => ({
      acltype: 'subscribeLiteral',
      topic: topicFor(deviceId, c),
      allow: true,
    })),
  ];
}

/** The hub's own broker user: every device topic, shared subscriptions to them, and the plugin's control topic. */
export function hubAcls(): { acltype: string; topic: string; allow: boolean }[] {
  return [
    { acltype: 'publishClientSend', topic: 'crema/v1/#', allow: true },
    { acltype: 'publishClientReceive', topic: 'crema/v1/#', allow: true },
    { acltype: 'subscribePattern', topic: 'crema/v1/#', allow: true },
    { acltype: 'subscribePattern', topic: '$share/+/crema/v1/#', allow: true },
    { acltype: 'publishClientSend', topic: `${DYNSEC_TOPIC}/#`, allow: true },
    { acltype: 'publishClientSend', topic: DYNSEC_TOPIC, allow: true },
    { acltype: 'publishClientReceive', topic: `${DYNSEC_TOPIC}/#`, allow: true },
    { acltype: 'subscribePattern', topic: `${DYNSEC_TOPIC}/#`, allow: true },
  ];
}

export interface DynsecAdminOptions {
  /** The broker, with a user allowed to administer the plugin (`mqtt://crema-hub:…@host:1883`). */
  url: string;
  logger: Logger;
  /** Longest wait for the plugin's answer (default 10 s). */
  timeoutMs?: number;
}

/**
 * Device credentials and ACLs kept in Mosquitto itself, through the dynamic security plugin: register and
 * rotate set the device's password (and its client id, which must equal the device id) and its own role;
 * revoke deletes the client, which the plugin disconnects at once. Each call resolves once the plugin
 * answered, so an API call that changed a credential returns after the broker applied it.
 */
export class DynsecAdmin {
  private client: MqttClient | undefined;
  private readonly waiting = new Map<string, (r: DynsecResponse[]) => void>();
  private readonly log: Logger;

  constructor(private readonly options: DynsecAdminOptions) {
    this.log = options.logger.child({ ns: 'hub:mqtt:dynsec' });
  }

  async start(): Promise<void> {
    const url = new URL(this.options.url);
    const client = await mqtt
      .connectAsync(this.options.url, {
        clientId: `crema-dynsec-${randomBytes(6).toString('hex')}`,
        username: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        clean: true,
        reconnectPeriod: 1000,
        connectTimeout: 10_000,
        protocolVersion: 4,
      })
      .catch((cause: unknown) => {
        throw new HubError('UNAVAILABLE', `cannot reach the broker ${redact(this.options.url)}`, { cause });
      });
    this.client = client;
    client.on('message', (topic, payload) => {
      if (topic === RESPONSE_TOPIC) this.receive(payload);
    });
    const granted = await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });
    if (granted.some((g) => g.qos === 128)) {
      await this.stop();
      throw new HubError('UNAVAILABLE', 'the broker user may not administer the dynamic security plugin');
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.endAsync(true);
    for (const [, resolve] of this.waiting) resolve([]);
    this.waiting.clear();
  }

  /** Registers or rotates: the device can connect with `secret` (and only it) from now on. */
  async setDevice(deviceId: string, secret: string): Promise<void> {
    const rolename = deviceRoleName(deviceId);
    const created = await this.run([
      { command: 'createRole', rolename, acls: deviceAcls(deviceId) },
      {
        command: 'createClient',
        username: deviceId,
        password: secret,
        clientid: deviceId,
        roles: [{ rolename, priority: 0 }],
      },
    ]);
    const [role, client] = created;
    if (role?.error && !/already exists/i.test(role.error)) throw this.refused(role);
    if (!client?.error) return;
    if (!/already exists/i.test(client.error)) throw this.refused(client);
    // A known client (rotation, or a registration retried): new password; disabling drops its connection.
    const updated = await this.run([
      { command: 'setClientPassword', username: deviceId, password: secret },
      { command: 'setClientId', username: deviceId, clientid: deviceId },
      { command: 'disableClient', username: deviceId },
      { command: 'enableClient', username: deviceId },
    ]);
    for (const r of updated) if (r.error) throw this.refused(r);
  }

  /** Revokes: the client is deleted (the plugin disconnects it) with its role. */
  async revokeDevice(deviceId: string): Promise<void> {
    const [client, role] = await this.run([
      { command: 'deleteClient', username: deviceId },
      { command: 'deleteRole', rolename: deviceRoleName(deviceId) },
    ]);
    if (client?.error && !/not found/i.test(client.error)) throw this.refused(client);
    if (role?.error && !/not found/i.test(role.error)) throw this.refused(role);
  }

  /** Sends commands in one message (the plugin runs them in order) and returns the answers in order. */
  async run(commands: DynsecCommand[]): Promise<DynsecResponse[]> {
    const client = this.client;
    if (!client?.connected) throw new HubError('UNAVAILABLE', 'not connected to the broker');
    const correlation = randomBytes(8).toString('hex');
    const tagged = commands.map((c, i) => ({ ...c, correlationData: `${correlation}.${i}` }));
    const answered = new Promise<DynsecResponse[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(correlation);
        reject(new HubError('UNAVAILABLE', 'the broker did not answer a dynamic security command'));
      }, this.options.timeoutMs ?? 10_000);
      this.waiting.set(correlation, (responses) => {
        clearTimeout(timer);
        resolve(responses);
      });
    });
    await client.publishAsync(DYNSEC_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 });
    const responses = await answered;
    return commands.map((_, i) => {
      const found = responses.find((r) => r.correlationData === `${correlation}.${i}`);
      return found ?? { command: commands[i]?.command ?? '', error: 'no answer' };
    });
  }

  private receive(payload: Buffer): void {
    const parsed = ResponsesSchema.safeParse(safeJson(payload.toString('utf8')));
    if (!parsed.success) {
      this.log.warn('unreadable dynamic security answer');
      return;
    }
    const first = parsed.data.responses.find((r) => r.correlationData)?.correlationData;
    const key = first?.split('.')[0];
    const resolve = key === undefined ? undefined : this.waiting.get(key);
    if (!key || !resolve) return;
    this.waiting.delete(key);
    resolve(parsed.data.responses);
  }

  private refused(r: DynsecResponse): HubError {
    this.log.error({ command: r.command, error: r.error }, 'dynamic security command refused');
    return new HubError('UNAVAILABLE', `the broker refused ${r.command}: ${r.error}`);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
