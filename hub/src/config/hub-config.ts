import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { HubError } from '../errors';

/**
 * Hub configuration: command-line flags win over environment variables, which win over defaults. With
 * nothing set, the hub runs on SQLite and an embedded broker in `./.crema/hub`.
 */
const PortSchema = z.coerce.number().int().min(0).max(65535);
const ConfigSchema = z.object({
  host: z.string().min(1),
  port: PortSchema,
  mqttPort: PortSchema,
  dataDir: z.string().min(1),
  databaseUrl: z.string().min(1).optional(),
  databaseSchema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case PostgreSQL identifier')
    .optional(),
  mqttUrl: z.url({ protocol: /^mqtts?$/ }).optional(),
  /**
   * Several hub processes behind one external broker: each subscribes to device uplinks through the MQTT
   * shared subscription `$share/<group>/…`, so each message reaches one of them. Needs `mqttUrl` and PostgreSQL.
   */
  mqttShareGroup: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -')
    .optional(),
  /**
   * The external broker is a Mosquitto 2 with the dynamic security plugin, and the hub's own broker user may
   * administer it: device credentials and ACLs are provisioned there on register, rotate and revoke.
   */
  mqttDynsec: z.stringbool().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  /** A device clock off by more than this many seconds raises a `clock_skew` alarm. */
  clockSkewAlarmS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 86_400)
    .optional(),
  jwtSecret: z.string().optional(),
  /** A separate listener for `/metrics` only (e.g. on a private interface), off the public API port. */
  metricsPort: PortSchema.optional(),
  metricsHost: z.string().min(1).optional(),
  /** Bearer token a scraper must send for `/metrics`; with it, the API port serves metrics too. */
  metricsToken: z.string().min(16, 'at least 16 characters').optional(),
  adminEmail: z.string().optional(),
  adminPassword: z.string().optional(),
  /** Webhooks may target loopback/private networks (a receiver on the same host or LAN). Off: SSRF guard. */
  webhooksAllowPrivate: z.boolean().optional(),
  /** Largest work-order attachment, in bytes (default 10 MiB). */
  attachmentMaxBytes: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .optional(),
  /**
   * Where artifact and attachment bytes live: `fs` (files under `<dataDir>/artifacts`) or `db` (the database,
   * shared by every hub process on it). Default: `fs` on SQLite, `db` on PostgreSQL.
   */
  artifactStore: z.enum(['fs', 'db']).optional(),
});
export type HubConfig = z.infer<typeof ConfigSchema>;

/** Flag → environment variable; documented in hub/README.md. */
export const ENV_NAMES = {
  host: 'CREMA_HUB_HOST',
  port: 'CREMA_HUB_PORT',
  mqttPort: 'CREMA_MQTT_PORT',
  dataDir: 'CREMA_HUB_DATA_DIR',
  databaseUrl: 'CREMA_DATABASE_URL',
  databaseSchema: 'CREMA_DATABASE_SCHEMA',
  mqttUrl: 'CREMA_MQTT_URL',
  mqttShareGroup: 'CREMA_MQTT_SHARE_GROUP',
  mqttDynsec: 'CREMA_MQTT_DYNSEC',
  logLevel: 'CREMA_LOG_LEVEL',
  metricsPort: 'CREMA_METRICS_PORT',
  metricsHost: 'CREMA_METRICS_HOST',
  clockSkewAlarmS: 'CREMA_CLOCK_SKEW_ALARM_S',
  attachmentMaxBytes: 'CREMA_ATTACHMENT_MAX_BYTES',
  artifactStore: 'CREMA_ARTIFACT_STORE',
} as const;

export const DEFAULTS = {
  host: '127.0.0.1',
  port: '8080',
  // 1883 is often taken by a system Mosquitto; the embedded broker defaults next to it.
  mqttPort: '1884',
  dataDir: './.crema/hub',
  logLevel: 'info',
  metricsHost: '127.0.0.1',
  clockSkewAlarmS: '300',
} as const;

export function loadHubConfig(argv: string[], env: NodeJS.ProcessEnv): HubConfig {
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'mqtt-port': { type: 'string' },
        'data-dir': { type: 'string' },
        'database-url': { type: 'string' },
        'database-schema': { type: 'string' },
        'mqtt-url': { type: 'string' },
        'mqtt-share-group': { type: 'string' },
        'mqtt-dynsec': { type: 'string' },
        'log-level': { type: 'string' },
        'metrics-port': { type: 'string' },
        'metrics-host': { type: 'string' },
        'clock-skew-alarm-s': { type: 'string' },
        'attachment-max-bytes': { type: 'string' },
        'artifact-store': { type: 'string' },
      },
    }).values as Record<string, string | undefined>;
  } catch (cause) {
    throw new HubError('CONFIG_INVALID', (cause as Error).message, { cause });
  }
  const pick = (flag: string, key: keyof typeof ENV_NAMES): string | undefined => {
    const fromEnv = env[ENV_NAMES[key]];
    return values[flag] ?? (fromEnv === '' ? undefined : fromEnv);
  };
  const parsed = ConfigSchema.safeParse({
    host: pick('host', 'host') ?? DEFAULTS.host,
    port: pick('port', 'port') ?? DEFAULTS.port,
    mqttPort: pick('mqtt-port', 'mqttPort') ?? DEFAULTS.mqttPort,
    dataDir: resolve(pick('data-dir', 'dataDir') ?? DEFAULTS.dataDir),
    databaseUrl: pick('database-url', 'databaseUrl'),
    databaseSchema: pick('database-schema', 'databaseSchema'),
    mqttUrl: pick('mqtt-url', 'mqttUrl'),
    mqttShareGroup: pick('mqtt-share-group', 'mqttShareGroup'),
    mqttDynsec: pick('mqtt-dynsec', 'mqttDynsec'),
    logLevel: pick('log-level', 'logLevel') ?? DEFAULTS.logLevel,
    metricsPort: pick('metrics-port', 'metricsPort'),
    metricsHost: pick('metrics-host', 'metricsHost') ?? DEFAULTS.metricsHost,
    metricsToken: env.CREMA_METRICS_TOKEN || undefined,
    clockSkewAlarmS: pick('clock-skew-alarm-s', 'clockSkewAlarmS') ?? DEFAULTS.clockSkewAlarmS,
    jwtSecret: env.CREMA_JWT_SECRET || undefined,
    adminEmail: env.CREMA_ADMIN_EMAIL || undefined,
    adminPassword: env.CREMA_ADMIN_PASSWORD || undefined,
    webhooksAllowPrivate: env.CREMA_WEBHOOKS_ALLOW_PRIVATE === '1' || undefined,
    attachmentMaxBytes: pick('attachment-max-bytes', 'attachmentMaxBytes'),
    artifactStore: pick('artifact-store', 'artifactStore'),
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new HubError('CONFIG_INVALID', `invalid hub configuration: ${issues}`, { details: parsed.error });
  }
  const config = parsed.data;
  if (config.mqttShareGroup !== undefined) {
    const onPostgres = /^postgres(ql)?:\/\//.test(config.databaseUrl ?? '');
    if (config.mqttUrl === undefined || !onPostgres)
      throw new HubError(
        'CONFIG_INVALID',
        'invalid hub configuration: mqttShareGroup (several hub processes) needs mqttUrl and a postgres:// databaseUrl',
      );
  }
  if (config.mqttDynsec && config.mqttUrl === undefined)
    throw new HubError(
      'CONFIG_INVALID',
      'invalid hub configuration: mqttDynsec needs mqttUrl (an external Mosquitto)',
    );
  return config;
}

/** Whether an address reaches only this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Where `/metrics` is served. Metrics show platform-wide business figures, so the public API port serves
 * them only to a scraper holding the token, or to anyone when the API listens on loopback alone (a
 * developer's machine). Otherwise they are off the API port; `--metrics-port` opens a separate listener.
 */
export function metricsAccessOf(config: HubConfig): MetricsAccess {
  const token = config.metricsToken;
  if (token !== undefined) return { onApiPort: true, token };
  return { onApiPort: config.metricsPort === undefined && isLoopback(config.host) };
}

export interface MetricsAccess {
  /** Whether the API listener answers `/metrics` (404 otherwise). */
  onApiPort: boolean;
  /** When set, every `/metrics` request must carry `Authorization: Bearer <token>`. */
  token?: string;
}
