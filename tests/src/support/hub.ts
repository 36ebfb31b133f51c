import { randomBytes } from 'node:crypto';
import { Hub, type HubAddresses } from '@crema/hub';
import { pino } from 'pino';

export const silent = pino({ level: process.env.CREMA_TEST_LOG ?? 'silent' });

export type CommandView = {
  id: string;
  deviceId: string;
  kind: string;
  status: string;
  deliveredAt: number | null;
  result: { code: string | null; message: string | null; output: Record<string, unknown> | null } | null;
};

/**
 * A real hub (SQLite + embedded broker + HTTP API) in a data directory that outlives restarts, and an admin
 * who talks to it over HTTP the way an operator's tool would.
 */
export class TestHub {
  hub: Hub | undefined;
  addresses: HubAddresses | undefined;
  private token = '';
  /** The superadmin this hub was started with (the browser tests log in as it). */
  readonly admin = { email: 'admin@crema.test', password: randomBytes(18).toString('base64url') };
  private mqttPort = 0;
  private httpPort = 0;

  /** `mqttUrl`: an external broker the hub uses instead of its embedded one. */
  constructor(
    readonly dataDir: string,
    private readonly options: { mqttUrl?: string } = {},
  ) {}

  get mqttUrl(): string {
    return this.addresses?.mqtt ?? `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  get httpUrl(): string {
    return this.addresses?.http ?? `http://127.0.0.1:${this.httpPort}`;
  }

  /** Starts (or restarts on the same ports and data) the hub, then logs the admin in. */
  async start(): Promise<void> {
    const hub = new Hub({
      config: {
        host: '127.0.0.1',
        port: this.httpPort,
        mqttPort: this.mqttPort,
        ...(this.options.mqttUrl === undefined ? {} : { mqttUrl: this.options.mqttUrl }),
        dataDir: this.dataDir,
        logLevel: 'silent',
        adminEmail: this.admin.email,
        adminPassword: this.admin.password,
      },
      logger: silent,
      announce: () => {},
    });
    this.addresses = await hub.start();
    this.hub = hub;
    this.httpPort = Number(new URL(this.addresses.http).port);
    this.mqttPort = Number(new URL(this.addresses.mqtt).port);
    const login = await this.call<{ accessToken: string }>('POST', '/api/v1/auth/login', this.admin, false);
    this.token = login.accessToken;
  }

  async stop(): Promise<void> {
    await this.hub?.stop();
    this.hub = undefined;
  }

  get db() {
    const deps = this.hub?.api;
    if (!deps) throw new Error('hub not running');
    return deps.db.kysely;
  }

  async createMerchant(name: string): Promise<string> {
    return (await this.call<{ id: string }>('POST', '/api/v1/merchants', { name })).id;
  }

  /** Registers a device; returns its credential (shown once). */
  async registerDevice(id: string, merchantId: string): Promise<string> {
    const res = await this.call<{ credential: { secret: string } }>('POST', '/api/v1/devices', {
      id,
      merchantId,
      model: 'cm-1',
    });
    return res.credential.secret;
  }

  async revoke(deviceId: string): Promise<void> {
    await this.call('POST', `/api/v1/devices/${deviceId}/revoke`);
  }

  async command(deviceId: string, kind: string, params: Record<string, unknown> = {}, ttlMs = 600_000) {
    const res = await this.call<{ commands: CommandView[] }>('POST', '/api/v1/commands', {
      kind,
      params,
      ttlMs,
      target: { deviceIds: [deviceId] },
    });
    const command = res.commands[0];
    if (!command) throw new Error('no command created');
    return command;
  }

  async getCommand(id: string): Promise<CommandView> {
    return this.call<CommandView>('GET', `/api/v1/commands/${id}`);
  }

  /** A call whose answer is text (a CSV or DEX file), as the admin. */
  async text(method: string, path: string): Promise<string> {
    const res = await fetch(new URL(path, this.httpUrl), {
      method,
      headers: { authorization: `Bearer ${this.token}` },
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
    return text;
  }

  async call<T = unknown>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (auth) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(new URL(path, this.httpUrl), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
