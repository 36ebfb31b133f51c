import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, parseConfig } from '@crema/agent';
import { type Simulator, startSimulator } from '@crema/firmware-sim';
import { Hub, type HubAddresses, loadHubConfig } from '@crema/hub';
import { pino } from 'pino';
import { AdminClient } from './admin-client';
import { CustomerTrickle, type Machine } from './customers';
import { readableLog } from './log';
import { startScaledHubs } from './scaled-hubs';
import { SignalDebounce } from './signals';

const USAGE = `usage: npm run fleet [-- --machines 3 --port 8080 --mqtt-port 1884 --speed 5 --order-every 4 --data-dir .crema/fleet]
       npm run fleet -- --hubs 2 --database-url postgres://… (--mosquitto | --mqtt-url mqtt://hub:pass@host:1883 [--dynsec])

Starts a whole local fleet in one process: the hub (SQLite + embedded MQTT broker), simulated coffee machines
each with its own agent connected to the hub, and a trickle of customers buying drinks. Ctrl-C stops it all.

Scaled out (hub/README.md, "Scaling out"): --hubs N runs N hub processes on the PostgreSQL of --database-url
(optionally in --database-schema), subscribed to the broker through one shared subscription; --mosquitto starts a
private Mosquitto with the dynamic security plugin on a free port (the hubs provision device credentials in it),
--mqtt-url uses your broker instead (with --dynsec when it is a Mosquitto whose dynsec the hub user administers).`;

function options() {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      machines: { type: 'string', default: '3' },
      port: { type: 'string', default: '8080' },
      'mqtt-port': { type: 'string', default: '1884' },
      speed: { type: 'string', default: '5' },
      'order-every': { type: 'string', default: '4' },
      'data-dir': { type: 'string', default: '.crema/fleet' },
      hubs: { type: 'string', default: '1' },
      'database-url': { type: 'string' },
      'database-schema': { type: 'string' },
      'mqtt-url': { type: 'string' },
      mosquitto: { type: 'boolean', default: false },
      dynsec: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const num = (name: string, v: string | undefined, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) fail(`--${name}: expected a number from ${min} to ${max}`);
    return n;
  };
  return {
    help: values.help ?? false,
    machines: num('machines', values.machines, 1, 50),
    port: num('port', values.port, 0, 65535),
    mqttPort: num('mqtt-port', values['mqtt-port'], 0, 65535),
    speed: num('speed', values.speed, 1, 100),
    orderEveryS: num('order-every', values['order-every'], 0.2, 3600),
    dataDir: resolve(values['data-dir'] ?? '.crema/fleet'),
    scale: scaleOptions(values, num('hubs', values.hubs, 1, 16)),
  };
}

/** The scaled-out options, or null for the default single hub with its embedded broker. */
function scaleOptions(
  values: Record<string, string | boolean | undefined>,
  hubs: number,
): ScaleOptions | null {
  const databaseUrl = values['database-url'] as string | undefined;
  const mqttUrl = values['mqtt-url'] as string | undefined;
  const mosquitto = values.mosquitto === true;
  if (hubs === 1 && !databaseUrl && !mqttUrl && !mosquitto) return null;
  if (!databaseUrl?.startsWith('postgres'))
    fail('--hubs, --mqtt-url and --mosquitto need --database-url postgres://…');
  if (mosquitto === (mqttUrl !== undefined)) fail('give one of --mosquitto or --mqtt-url');
  const schema = values['database-schema'] as string | undefined;
  return {
    hubs,
    databaseUrl,
    ...(schema ? { databaseSchema: schema } : {}),
    ...(mqttUrl ? { mqttUrl } : {}),
    dynsec: mosquitto || values.dynsec === true,
  };
}

interface ScaleOptions {
  hubs: number;
  databaseUrl: string;
  databaseSchema?: string;
  /** The hub user's broker URL; absent: a private Mosquitto is started. */
  mqttUrl?: string;
  dynsec: boolean;
}

function fail(message: string): never {
  process.stderr.write(`crema fleet: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/** Signals this close together are one Ctrl-C; a person pressing it again to stop at once takes longer. */
const SIGNAL_WINDOW_MS = 1_000;

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Starts the hub, falling back to free ports when the defaults are taken (a newcomer's laptop). */
async function startHub(
  dataDir: string,
  port: number,
  mqttPort: number,
  admin: { email: string; password: string },
  logger: pino.Logger,
): Promise<{ hub: Hub; addresses: HubAddresses }> {
  const attempt = async (p: number, m: number) => {
    const config = loadHubConfig(
      ['--port', String(p), '--mqtt-port', String(m), '--data-dir', join(dataDir, 'hub')],
      {
        ...process.env,
        CREMA_ADMIN_EMAIL: admin.email,
        CREMA_ADMIN_PASSWORD: admin.password,
      },
    );
    const hub = new Hub({ config, logger, announce: () => undefined });
    try {
      return { hub, addresses: await hub.start() };
    } catch (err) {
      await hub.stop().catch(() => undefined);
      throw err;
    }
  };
  try {
    return await attempt(port, mqttPort);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    say(`port ${port} or ${mqttPort} is taken; using free ports instead`);
    return attempt(0, 0);
  }
}

async function main(): Promise<void> {
  const opts = options();
  if (opts.help) {
    say(USAGE);
    return;
  }
  // A fresh fleet each run: the simulated machines and their credentials do not outlive it.
  rmSync(opts.dataDir, { recursive: true, force: true });
  mkdirSync(opts.dataDir, { recursive: true });
  const logger = pino({ level: process.env.CREMA_LOG_LEVEL ?? 'warn' }, readableLog());
  const admin = {
    email: process.env.CREMA_ADMIN_EMAIL ?? 'admin@crema.local',
    password: process.env.CREMA_ADMIN_PASSWORD ?? randomBytes(12).toString('base64url'),
  };

  const scaled = opts.scale
    ? await startScaledHubs({ ...opts.scale, dataDir: opts.dataDir, port: opts.port, admin, say })
    : undefined;
  const { hub, addresses } = scaled
    ? { hub: scaled, addresses: scaled.addresses }
    : await startHub(opts.dataDir, opts.port, opts.mqttPort, admin, logger);
  const client = new AdminClient(addresses.http);
  await client.login(admin.email, admin.password);
  const merchant = await client.call<{ id: string }>('POST', '/api/v1/merchants', { name: 'Demo Coffee Co' });
  const location = await client.call<{ id: string }>('POST', '/api/v1/locations', {
    merchantId: merchant.id,
    name: 'Central Station',
    address: '1 Station Square',
  });
  // The key that verifies recipe bundles: each agent installs what the hub signs and refuses anything else.
  const signingKey = await client.call<{ publicKeyPem: string }>('GET', '/api/v1/recipe-sets/signing-key');

  const SIM_MODEL = 'cm-1';
  const sims: Simulator[] = [];
  const agents: Agent[] = [];
  const machines: Machine[] = [];
  const technicianTokens = new Map<string, string>();
  for (let i = 1; i <= opts.machines; i++) {
    const deviceId = `demo-machine-${i}`;
    const { credential } = await client.call<{ credential: { secret: string } }>('POST', '/api/v1/devices', {
      id: deviceId,
      merchantId: merchant.id,
      locationId: location.id,
      // The machine model is the one its brewer controller reports (INFO): brewer firmware is built per model,
      // and a campaign targets machines by it.
      model: SIM_MODEL,
      name: `Machine ${i}`,
    });
    // TCP gateways rather than pseudo-terminals: a fresh machine may not have socat.
    const sim = await startSimulator({
      pty: false,
      timeScale: opts.speed,
      seed: i,
      initialTempC: 92,
      logger,
    });
    sims.push(sim);
    const e = sim.endpoints;
    const hostPort = (a: string) => ({
      host: a.slice(0, a.lastIndexOf(':')),
      port: Number(a.slice(a.lastIndexOf(':') + 1)),
    });
    const config = parseConfig(
      {
        deviceId,
        model: SIM_MODEL,
        dataDir: join(opts.dataDir, deviceId),
        drivers: {
          brewer: { transport: 'tcp', ...hostPort(e.serial.tcp) },
          payment: { transport: 'tcp', ...hostPort(e.payment.tcp) },
          modbus: { transport: 'tcp', ...hostPort(e.modbus.tcp) },
        },
        // A technician credential per machine and run, never a default one.
        api: { port: 0, technicianToken: randomBytes(24).toString('hex') },
        hub: {
          mqttUrl: addresses.mqtt,
          httpUrl: addresses.http,
          credential: credential.secret,
          publicKey: signingKey.publicKeyPem,
        },
      },
      `${deviceId} configuration`,
    );
    const machine: Machine = { deviceId, api: '' };
    // A `restart` command restarts the agent in this process; the customers then use its new API address.
    const agent: Agent = new Agent({
      config,
      logger,
      onRestart: () => {
        agent.restart().then(
          ({ api }) => {
            machine.api = api;
          },
          (err: unknown) => logger.error({ deviceId, err: (err as Error).message }, 'agent restart failed'),
        );
      },
    });
    agents.push(agent);
    machine.api = (await agent.start()).api;
    machines.push(machine);
    technicianTokens.set(deviceId, config.api.technicianToken ?? '');
  }

  const trickle = new CustomerTrickle(machines, opts.orderEveryS * 1000, say);
  trickle.start();

  say('');
  say('Crema fleet is running.');
  say(`  console     ${addresses.http}/console/  (email ${admin.email}, password ${admin.password})`);
  say(`  admin API   ${addresses.http}/api/v1`);
  say(`  API docs    ${addresses.docs}`);
  say(`  OpenAPI     ${addresses.http}/api/openapi.json`);
  say(`  MQTT        ${addresses.mqtt}`);
  for (const line of scaled?.describe() ?? []) say(line);
  say(
    `  log in      POST ${addresses.http}/api/v1/auth/login {"email":"${admin.email}","password":"${admin.password}"}`,
  );
  if (!process.env.CREMA_ADMIN_PASSWORD)
    say('              (password generated for this run; set CREMA_ADMIN_PASSWORD to choose it)');
  for (const m of machines) {
    say(
      `  machine     ${m.deviceId}  touchscreen API ${m.api}  technician ${technicianTokens.get(m.deviceId)}`,
    );
  }
  say('Customers arrive every few seconds. Ctrl-C stops everything.');
  say('');

  let stopping = false;
  const stop = async () => {
    if (stopping) {
      // A second Ctrl-C does not wait for drinks in progress: the ledgers recover them at the next start.
      say('stopping at once');
      process.exit(130);
    }
    stopping = true;
    say('stopping the fleet… (drinks being made are finished first; Ctrl-C again to stop at once)');
    setTimeout(() => {
      process.stderr.write('crema fleet: still stopping after 60 s; exiting\n');
      process.exit(1);
    }, 60_000).unref();
    trickle.stop();
    await Promise.allSettled(agents.map((a) => a.stop()));
    await Promise.allSettled(sims.map((s) => s.stop()));
    await hub.stop().catch(() => undefined);
    const { sold, refused } = trickle.counts;
    say(`stopped: ${sold} drinks sold, ${refused} orders refused`);
    process.exit(0);
  };
  // One Ctrl-C reaches this process several times (from the terminal to the whole process group, and again
  // relayed by npm, pnpm and tsx): signals close together are one request.
  const signals = new SignalDebounce(SIGNAL_WINDOW_MS, () => void stop());
  process.on('SIGINT', () => signals.receive());
  process.on('SIGTERM', () => signals.receive());
}

main().catch((err: unknown) => {
  process.stderr.write(`crema fleet: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
