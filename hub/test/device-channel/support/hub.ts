import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BodyOf,
  type Command,
  CommandSchema,
  decodeEnvelope,
  type Envelope,
  type MessageType,
  makeEnvelope,
  ulid,
} from '@crema/protocol';
import { waitFor } from '@crema/protocol/testing';
import pg from 'pg';
import pino from 'pino';
import { loadHubConfig } from '../../../src/config/hub-config';
import type { DeviceChannel } from '../../../src/device-channel/channel';
import { Hub, type HubAddresses, type HubOptions } from '../../../src/hub';
import type { Operations } from '../../../src/operations/runtime';
import { TestDevice } from '../../mqtt/support/device';
import { SteppedClock } from '../../support/clock';
import { type Backend, TEST_PG_URL } from '../../support/db';

export interface ApiAnswer {
  status: number;
  contentType: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are checked by assertions, not types
  body: any;
}

/** A whole hub (HTTP + embedded broker + store) on free ports, with a superadmin token and a merchant. */
export interface SyncHub {
  hub: Hub;
  at: HubAddresses;
  /** PostgreSQL: the schema it works in; the superadmin's password (for a second hub on the same store). */
  schema: string;
  password: string;
  /** Drives the hub's time (command issue/expiry, TTL sweep); real timers still run. */
  clock: SteppedClock;
  token: string;
  merchantId: string;
  channel: DeviceChannel;
  ops: Operations;
  api(method: string, path: string, body?: unknown, token?: string): Promise<ApiAnswer>;
  /** Registers a device through the admin API; returns its credential. */
  register(deviceId: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startSyncHub(
  backend: Backend,
  options: Pick<HubOptions, 'artifactUsage' | 'maxArtifactBytes' | 'env'> & {
    dataDir?: string;
    /** `--artifact-store` (default: the hub's, by backend). */
    artifactStore?: 'fs' | 'db';
    /** PostgreSQL: the schema of another hub, so two hubs share one store (default: a fresh one). */
    schema?: string;
    /** More hub flags (e.g. `--mqtt-share-group`). */
    flags?: string[];
    /** The superadmin's password (a second hub on a store the first one set up). */
    password?: string;
  } = {},
): Promise<SyncHub> {
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'crema-hub-sync-'));
  const schema = options.schema ?? `t_sync_${randomBytes(5).toString('hex')}`;
  const flags = ['--port', '0', '--mqtt-port', '0', '--data-dir', dir, ...(options.flags ?? [])];
  if (backend === 'postgres') flags.push('--database-url', TEST_PG_URL, '--database-schema', schema);
  if (options.artifactStore) flags.push('--artifact-store', options.artifactStore);
  const password = options.password ?? randomBytes(12).toString('base64url');
  const config = loadHubConfig(flags, {
    CREMA_ADMIN_EMAIL: 'root@sync.test',
    CREMA_ADMIN_PASSWORD: password,
  });
  const clock = new SteppedClock();
  const {
    dataDir: _dir,
    artifactStore: _store,
    schema: _schema,
    flags: _flags,
    password: _password,
    ...hubOptions
  } = options;
  const hub = new Hub({
    config,
    clock,
    logger: pino({ level: process.env.CREMA_TEST_LOG ?? 'silent' }),
    ...hubOptions,
  });
  const at = await hub.start();

  const api = async (method: string, path: string, body?: unknown, token?: string): Promise<ApiAnswer> => {
    const res = await fetch(`${at.http}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      body: text ? JSON.parse(text) : undefined,
    };
  };
  const login = await api('POST', '/api/v1/auth/login', { email: 'root@sync.test', password });
  if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
  const token = login.body.accessToken as string;
  const merchantId = `m-${randomBytes(3).toString('hex')}`;
  await api('POST', '/api/v1/merchants', { id: merchantId, name: merchantId }, token);
  const parts = hub.parts;
  if (!parts) throw new Error('hub started without its parts');

  return {
    hub,
    at,
    schema,
    password,
    clock,
    token,
    merchantId,
    channel: parts.deviceChannel,
    ops: parts.operations,
    api: (method, path, body, t) => api(method, path, body, t ?? token),
    async register(deviceId) {
      const res = await api('POST', '/api/v1/devices', { id: deviceId, merchantId, model: 'CM-1' }, token);
      if (res.status !== 201) throw new Error(`register failed: ${JSON.stringify(res.body)}`);
      return res.body.credential.secret as string;
    },
    async stop() {
      await hub.stop();
      rmSync(dir, { recursive: true, force: true });
      // A hub on another's schema leaves it to that one.
      if (backend === 'postgres' && options.schema === undefined) {
        const client = new pg.Client({ connectionString: TEST_PG_URL });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade`);
        await client.end();
      }
    },
  };
}

/** A machine on MQTT as the protocol describes it: persistent session, subscribed, birth, answers commands. */
export class CommandDevice {
  readonly commands: Command[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly device: TestDevice) {
    device.client.on('message', (topic, payload) => {
      if (!topic.endsWith('/command')) return;
      const decoded = decodeEnvelope(payload);
      if (decoded.ok && decoded.value.type === 'command') {
        this.commands.push(CommandSchema.parse(decoded.value.body));
        for (const w of this.waiters.splice(0)) w();
      }
    });
  }

  static async connect(url: string, deviceId: string, secret: string): Promise<CommandDevice> {
    const device = await TestDevice.connect(url, deviceId, secret, { clean: false });
    const d = new CommandDevice(device);
    await device.send(device.birth());
    return d;
  }

  get id(): string {
    return this.device.deviceId;
  }

  /** Resolves with the first received command matching `match`. */
  async waitForCommand(match: (c: Command) => boolean = () => true, timeoutMs = 8000): Promise<Command> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.commands.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.id}: no matching command within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async progress(commandId: string, status: 'delivered' | 'deferred' | 'executing'): Promise<void> {
    await this.device.send(this.device.envelope('command_progress', { commandId, status, at: Date.now() }));
  }

  /** Publishes the result record and waits until the hub acknowledged it (stored durably). */
  async result(
    commandId: string,
    status: 'succeeded' | 'failed' | 'expired',
    output?: Record<string, unknown>,
  ) {
    const record = this.device.envelope('command_result', {
      commandId,
      status,
      ...(output ? { output } : {}),
      at: Date.now(),
    });
    await this.device.send(record);
    await this.device.waitForAck(record.id);
    return record;
  }

  async close(): Promise<void> {
    await this.device.close();
  }
}

/** An envelope from `deviceId` (for HTTP bodies). */
export function envelopeOf<T extends MessageType>(
  deviceId: string,
  type: T,
  body: BodyOf<T>,
  seq = 0,
): Envelope<T> {
  return makeEnvelope(type, { id: ulid(), deviceId, ts: Date.now(), seq }, body);
}

/** Polls `check` until it holds (API state is written asynchronously after the MQTT round trip). */
export const eventually = <T>(check: () => Promise<T | undefined | false>, timeoutMs = 8000) =>
  waitFor(check, timeoutMs);
