import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, type Simulator, startSimulator } from '@crema/firmware-sim';
import { type Command, PublicJwkSchema, type TrustStore, type UpdateProgress } from '@crema/protocol';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleAgentCli } from './bundle';
import { ArtifactServer } from './helpers/artifact-server';
import { HubDouble } from './helpers/hub-double';
import { manifestFor, sign, upgradeCommand } from './helpers/updates';
import {
  type AgentChild,
  exited,
  postOrder,
  prng,
  simConfig,
  spawnAgent,
  waitFor,
  writeConfig,
} from './support';

/**
 * Pulls the plug on the agent (SIGKILL) at random points of brewer firmware updates — download, flash, switch,
 * health check, rollback — then starts it again, as a power cut would, against one long-lived simulated
 * machine whose bootloader keeps its slots. After every round the machine runs a confirmed, working image,
 * exactly one final `update_progress` reached the hub, and it says what the machine runs.
 *
 * Every third image crashes at boot, so kills also land in the bootloader's fallback and the rollback.
 * `CREMA_UPDATE_CRASH_ROUNDS` sets the rounds (CI keeps it small); the seed (`CREMA_UPDATE_CRASH_SEED`,
 * else `CREMA_CRASH_SEED`) replays a run.
 */
const ROUNDS = Number(process.env.CREMA_UPDATE_CRASH_ROUNDS ?? 6);
const SEED = Number(process.env.CREMA_UPDATE_CRASH_SEED ?? process.env.CREMA_CRASH_SEED ?? 20_261_204);
const DEVICE = 'update-crash-1';
const CREDENTIAL = 'update-crash-credential-0123';
const IMAGE_BYTES = 12 * 1024;

/**
 * The release key as a machine is provisioned with it: the hub's public key (SPKI PEM, `hub.publicKey`) whose
 * key id is `hub-` + the first 16 hex digits of the SHA-256 of its DER, the kid the hub puts in its JWS.
 */
function hubReleaseKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = `hub-${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
  const { kty, crv, x } = createPublicKey(privateKey).export({ format: 'jwk' });
  const trust: TrustStore = { keys: [{ kid, jwk: PublicJwkSchema.parse({ kty, crv, x }) }], revoked: [] };
  return { kid, privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), trust };
}
const release = hubReleaseKey();

describe('crash test: SIGKILL during firmware updates', () => {
  let sim: Simulator;
  let hub: HubDouble;
  let server: ArtifactServer;
  let dir: string;
  let configFile: string;
  let bundle: Awaited<ReturnType<typeof bundleAgentCli>>;

  beforeAll(async () => {
    console.log(`update crash test: seed ${SEED}, ${ROUNDS} rounds (CREMA_UPDATE_CRASH_ROUNDS for more)`);
    bundle = await bundleAgentCli();
    dir = mkdtempSync(join(tmpdir(), 'crema-upd-crash-'));
    sim = await startSimulator({
      pty: true,
      timeScale: 20,
      initialTempC: 92,
      seed: SEED,
      bootTiming: { bootMs: 800, watchdogMs: 2000, flashMsPerChunk: 0 },
    });
    hub = new HubDouble(join(dir, 'hub.sqlite'));
    hub.credentials.set(DEVICE, CREDENTIAL);
    await hub.start();
    server = new ArtifactServer();
    server.credentials.set(DEVICE, CREDENTIAL);
    server.writeDelayMs = 15;
    await server.start();
    configFile = writeConfig(
      dir,
      simConfig(sim.endpoints, join(dir, 'data'), {
        deviceId: DEVICE,
        hub: { mqttUrl: hub.url, httpUrl: server.url, credential: CREDENTIAL, publicKey: release.pem },
        updates: {
          healthCheck: { heatTimeoutMs: 6_000, settleMs: 300, rinseTimeoutMs: 5_000 },
          linkWaitMs: 30_000,
          bootWaitMs: 30_000,
        },
      }),
    );
  }, 60_000);

  afterAll(async () => {
    bundle?.dispose();
    await server?.stop();
    await hub?.stop();
    hub?.close();
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const births = () => hub.messages.filter((m) => m.type === 'birth').length;
  const finals = (rolloutId: string) =>
    hub
      .stored(DEVICE)
      .filter((r) => r.type === 'update_progress')
      .map((r) => r.body as UpdateProgress)
      .filter((p) => p.rolloutId === rolloutId && ['succeeded', 'rolled_back', 'failed'].includes(p.stage));

  /** Starts the agent and hands it the command once it is connected, as the hub does on every birth. */
  async function startWith(command: Command): Promise<AgentChild & { publishedAt: number }> {
    const before = births();
    const agent = await spawnAgent(configFile, {}, bundle.file);
    await waitFor(() => births() > before || undefined, 20_000, 'birth');
    await hub.publishCommand(DEVICE, command);
    return { ...agent, publishedAt: performance.now() };
  }

  async function kill(agent: AgentChild): Promise<void> {
    agent.child.kill('SIGKILL');
    await exited(agent.child);
  }

  /** Where the journal says the killed update was (`none`: killed before the command was taken). */
  function stepAtKill(commandKey: string): string {
    const db = new Database(join(dir, 'data', 'agent.db'), { readonly: true });
    try {
      const row = db.prepare('SELECT step FROM updates WHERE command_key = ?').get(commandKey) as
        | { step: string }
        | undefined;
      return row?.step ?? 'none';
    } finally {
      db.close();
    }
  }

  it(`every update ends on a working image with one consistent report (seed ${SEED})`, {
    timeout: 20 * 60_000,
  }, async () => {
    const random = prng(SEED);
    let running = '1.4.2';
    let updateMs = 4_000;
    let kills = 0;
    const outcomes: string[] = [];
    const steps = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round++) {
      const version = `1.${5 + round}.0`;
      const crashing = round % 3 === 2;
      const image = buildImage({ model: 'cm-1', version }, crashing ? { crashAfterMs: 0 } : {}, IMAGE_BYTES);
      const manifest = manifestFor(image, { version });
      server.files.set(manifest.sha256, image);
      const rolloutId = `ro_${round}`;
      const command = upgradeCommand(await sign(manifest, release), rolloutId);
      const from = running;
      const calibrate = round === 0;
      const roundKills = calibrate ? 0 : 1 + Math.floor(random() * 3);
      for (let k = 0; k < roundKills; k++) {
        const agent = await startWith(command);
        await new Promise((r) => setTimeout(r, random() * updateMs));
        await kill(agent);
        kills++;
        const step = stepAtKill(command.idempotencyKey);
        steps.set(step, (steps.get(step) ?? 0) + 1);
      }
      // The last start runs the update to its end (resumed from its journal, or joined by the command).
      const agent = await startWith(command);
      const [end] = await waitFor(
        () => (finals(rolloutId).length > 0 ? finals(rolloutId) : undefined),
        90_000,
        `round ${round}: final report`,
      );
      // Kills land anywhere from the command's arrival to the end of a whole update on this machine now.
      if (calibrate) updateMs = Math.max(1_000, performance.now() - agent.publishedAt);
      const status = (await (await fetch(`${agent.api}/status`)).json()) as { salesLocked: boolean };
      agent.child.kill('SIGTERM');
      expect(await exited(agent.child)).toBe(0);

      // A working image: application mode, no trial left, the active slot confirmed and answering.
      const slots = sim.bootloader.table();
      expect(slots, `round ${round}`).toMatchObject({ mode: 'app', pending: '' });
      expect(slots[`${slots.active}_state`], `round ${round}`).toBe('confirmed');
      expect(sim.model.spec.fw).toBe(slots[`${slots.active}_fw`]);
      // One final report, saying what runs.
      expect(finals(rolloutId), `round ${round}`).toHaveLength(1);
      expect(status.salesLocked, `round ${round}`).toBe(false);
      if (end?.stage === 'succeeded') {
        expect(sim.model.spec.fw, `round ${round}`).toBe(version);
        running = version;
      } else {
        expect(sim.model.spec.fw, `round ${round}: ${end?.stage} ${end?.reason}`).toBe(running);
      }
      expect(end?.fromVersion, `round ${round}`).toBe(from);
      expect(end?.stage, `round ${round}: ${end?.reason} ${end?.detail}`).toBe(
        crashing ? 'rolled_back' : 'succeeded',
      );
      outcomes.push(`${version}:${end?.stage}`);
    }
    const where = [...steps].map(([step, count]) => `${step} ${count}`).join(', ');
    console.log(
      `update crash test: ${ROUNDS} rounds, ${kills} kills (at ${where}), ${outcomes.join(' ')} (seed ${SEED})`,
    );
    expect(kills).toBeGreaterThan(0);
  });

  it('an update command that arrives during a sale waits for the drink, then installs', {
    timeout: 120_000,
  }, async () => {
    const image = buildImage({ model: 'cm-1', version: '9.0.0' }, {}, IMAGE_BYTES);
    const manifest = manifestFor(image, { version: '9.0.0' });
    server.files.set(manifest.sha256, image);
    const command = upgradeCommand(await sign(manifest, release), 'ro_sale');
    const before = births();
    const agent = await spawnAgent(configFile, {}, bundle.file);
    await waitFor(() => births() > before || undefined, 20_000, 'birth');
    const res = await postOrder(agent.api);
    expect(res.status).toBe(202);
    const { order } = (await res.json()) as { order: { id: string } };
    await hub.publishCommand(DEVICE, command);
    await waitFor(
      () =>
        hub.messages.some(
          (m) =>
            m.type === 'command_progress' &&
            m.body.commandId === command.commandId &&
            m.body.status === 'deferred',
        ) || undefined,
      20_000,
      'deferred while the drink is made',
    );
    const [end] = await waitFor(
      () => (finals('ro_sale').length > 0 ? finals('ro_sale') : undefined),
      90_000,
      'final',
    );
    const { order: done } = (await (await fetch(`${agent.api}/orders/${order.id}`)).json()) as {
      order: { state: string };
    };
    agent.child.kill('SIGTERM');
    expect(await exited(agent.child)).toBe(0);
    expect(done.state).toBe('completed');
    expect(end).toMatchObject({ stage: 'succeeded', version: '9.0.0' });
    expect(sim.model.spec.fw).toBe('9.0.0');
  });
});
