import { appendFileSync, readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { attachToLauncher } from '../../../src/updates/slots/agent-side';

/**
 * A release program for the launcher tests, compiled once per behaviour (esbuild `define`, so each build holds
 * only its own code path), staged into slots like a real agent.mjs. It does what the agent does for the
 * launcher: heartbeats, connects to the hub's real MQTT broker, confirms once connected; on SIGUSR2 it stages
 * and activates the release named in FIXTURE_UPGRADE (JSON {file, version}) and exits, as the
 * upgrade_agent handler does.
 *  good: connects with the right credential and confirms;
 *  never-ready: starts and heartbeats but the broker refuses it (wrong credential), so it never confirms;
 *  hang: blocks its event loop right after start (no heartbeat, no answer to SIGTERM);
 *  crash: throws while loading.
 */
declare const RELEASE_BEHAVIOUR: 'good' | 'never-ready' | 'hang' | 'crash';

const env = process.env;
const log = (entry: Record<string, unknown>) =>
  appendFileSync(env.FIXTURE_LOG ?? '/dev/null', `${JSON.stringify({ pid: process.pid, ...entry })}\n`);

if (RELEASE_BEHAVIOUR === 'crash') throw new Error('this release crashes at start');

const slots = attachToLauncher({ onGone: () => process.exit(1) });
if (!slots) {
  process.stderr.write('fixture release: not started by the launcher\n');
  process.exit(1);
}
// As in the agent, SIGTERM is handled (a clean stop); a hung release therefore ignores it.
let client: mqtt.MqttClient | undefined;
process.on('SIGTERM', () => {
  client?.end(true);
  process.exit(0);
});
log({ event: 'start', ...slots.running(), outcome: slots.outcome() });

if (RELEASE_BEHAVIOUR === 'hang') {
  // A real hang: the event loop is blocked for good (no CPU burnt while the test waits).
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

client = mqtt.connect(env.FIXTURE_BROKER ?? 'mqtt://127.0.0.1:1', {
  clientId: env.FIXTURE_DEVICE,
  username: env.FIXTURE_DEVICE,
  password: RELEASE_BEHAVIOUR === 'never-ready' ? 'not-the-credential' : env.FIXTURE_CREDENTIAL,
  reconnectPeriod: 200,
});
client.once('connect', () => {
  slots.confirm().then(
    () => log({ event: 'confirmed', ...slots.running() }),
    (err: unknown) => log({ event: 'confirm_failed', err: (err as Error).message }),
  );
});

process.on('SIGUSR2', () => {
  const upgrade = JSON.parse(readFileSync(env.FIXTURE_UPGRADE ?? '', 'utf8')) as {
    file: string;
    version: string;
  };
  slots
    .stage(upgrade.file, upgrade.version)
    .then(() => slots.activate(upgrade.version))
    .then(
      () => {
        log({ event: 'activated', version: upgrade.version });
        process.exit(0);
      },
      (err: unknown) => log({ event: 'upgrade_failed', err: (err as Error).message }),
    );
});
