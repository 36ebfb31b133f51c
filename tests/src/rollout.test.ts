import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ArtifactManifest, MANIFEST_TYP, manifestBytes } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from './support/hub';
import { waitFor } from './support/ledger';
import { UpdaterFleet } from './support/updater-fleet';

type Rollout = {
  id: string;
  status: string;
  phaseIndex: number;
  counts: Record<string, number>;
  halt: { code: string; reason: string } | null;
};
type Page<T> = { items: T[]; total: number };
type RolloutDevice = { deviceId: string; phase: number | null; status: string; reason: string | null };

const FLEET = 20;
const GOOD = '1.5.0';
const BAD = '1.6.0';

/**
 * Rollout campaigns over a fleet of 20 scripted machines on the hub's real broker: a good image reaches
 * everyone phase by phase and the hub shows each machine's new version; a defective image fails its health
 * check on the canaries, the campaign halts at the threshold and no other machine is sent it.
 */
describe('rollout campaigns end to end', () => {
  let dir: string;
  let hub: TestHub;
  let fleet: UpdaterFleet;
  const ids = Array.from({ length: FLEET }, (_, i) => `cm-roll-${String(i).padStart(2, '0')}`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-scenario-rollout-'));
    hub = new TestHub(join(dir, 'hub'));
    await hub.start();
    const merchant = await hub.createMerchant('Roll Coffee');
    fleet = new UpdaterFleet(hub.mqttUrl, (version) => (version === BAD ? 'fails-health-check' : 'good'));
    const secrets: string[] = [];
    for (const id of ids) secrets.push(await hub.registerDevice(id, merchant));
    for (const [i, id] of ids.entries()) await fleet.add(id, secrets[i] as string, '1.4.2');
    await waitFor(
      async () =>
        (
          await hub.db
            .selectFrom('device_state')
            .select('device_id')
            .where('firmware_version', '=', '1.4.2')
            .execute()
        ).length === FLEET,
      20_000,
      'every machine born on 1.4.2',
    );
  }, 60_000);

  afterAll(async () => {
    await fleet?.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function artifact(version: string): Promise<string> {
    const parts = hub.hub?.parts;
    if (!parts) throw new Error('hub not running');
    const sha256 = randomBytes(32).toString('hex');
    const m: ArtifactManifest = {
      kind: 'brewer-firmware',
      version,
      models: ['cm-1'],
      size: 65_536,
      sha256,
      minVersion: '1.0.0',
      notes: `image ${version}`,
      createdAt: Date.now(),
    };
    await hub.db
      .insertInto('artifacts')
      .values({
        sha256,
        kind: m.kind,
        version,
        models: JSON.stringify(m.models),
        size: m.size,
        min_version: m.minVersion,
        notes: m.notes,
        manifest_jws: await parts.signingKey.signJws(manifestBytes(m), MANIFEST_TYP),
        signed_kid: 'e2e',
        uploaded_by: 'e2e',
        created_at: Date.now(),
      })
      .execute();
    return sha256;
  }

  const campaign = (id: string) => hub.call<Rollout>('GET', `/api/v1/rollouts/${id}`);

  it('a good image updates every machine, canary first, and the hub shows the new version', async () => {
    const r = await hub.call<Rollout>('POST', '/api/v1/rollouts', {
      name: `firmware ${GOOD}`,
      artifact: await artifact(GOOD),
      target: { models: ['cm-1'] },
      phases: [
        { count: 1, soakMs: 0 },
        { percent: 25, soakMs: 0 },
        { percent: 100, soakMs: 0 },
      ],
    });
    await waitFor(async () => (await campaign(r.id)).status === 'completed', 30_000, 'campaign completed');
    expect((await campaign(r.id)).counts).toEqual({ succeeded: FLEET });
    const devices = await hub.call<Page<RolloutDevice>>('GET', `/api/v1/rollouts/${r.id}/devices?limit=100`);
    expect(devices.items.filter((d) => d.phase === 0)).toHaveLength(1);
    expect(devices.items.filter((d) => d.phase === 1)).toHaveLength(4);
    // The canary was sent its command before anyone else, and finished before phase 1 was sent anything.
    const canary = devices.items.find((d) => d.phase === 0)?.deviceId as string;
    const sent = await hub.db
      .selectFrom('rollout_devices')
      .select(['device_id', 'sent_at', 'finished_at'])
      .where('rollout_id', '=', r.id)
      .execute();
    const canaryRow = sent.find((s) => s.device_id === canary);
    const othersSent = sent.filter((s) => s.device_id !== canary).map((s) => Number(s.sent_at));
    expect(Math.min(...othersSent)).toBeGreaterThanOrEqual(Number(canaryRow?.finished_at));
    await waitFor(
      async () => {
        const states = await Promise.all(
          ids.map((id) =>
            hub.call<{ state: { firmwareVersion: string } | null }>('GET', `/api/v1/devices/${id}`),
          ),
        );
        return states.every((s) => s.state?.firmwareVersion === GOOD);
      },
      15_000,
      `every machine reports ${GOOD}`,
    );
  }, 60_000);

  it('a defective image rolls back on the canaries, halts the campaign, and reaches no other machine', async () => {
    const r = await hub.call<Rollout>('POST', '/api/v1/rollouts', {
      name: `firmware ${BAD}`,
      artifact: await artifact(BAD),
      target: { models: ['cm-1'] },
      phases: [
        { count: 2, soakMs: 0 },
        { percent: 100, soakMs: 0 },
      ],
      failureThreshold: { count: 2 },
    });
    await waitFor(async () => (await campaign(r.id)).status === 'halted', 30_000, 'campaign halted');
    const halted = await campaign(r.id);
    expect(halted.halt?.code).toBe('ROLLOUT_FAILURE_THRESHOLD');
    expect(halted.counts).toEqual({ rolled_back: 2, pending: FLEET - 2 });
    const rolledBack = await hub.call<Page<RolloutDevice>>(
      'GET',
      `/api/v1/rollouts/${r.id}/devices?status=rolled_back`,
    );
    expect(rolledBack.items.map((d) => d.reason)).toEqual(['HEALTH_CHECK_FAILED', 'HEALTH_CHECK_FAILED']);
    // Give the engine several passes: still nobody else receives the image.
    await new Promise((resolve) => setTimeout(resolve, 4500));
    const receivedBad = fleet.machines
      .filter((m) => m.upgrades.some((u) => u.version === BAD))
      .map((m) => m.id);
    expect(receivedBad.sort()).toEqual(rolledBack.items.map((d) => d.deviceId).sort());
    expect(fleet.machines.every((m) => m.firmwareVersion === GOOD)).toBe(true);
    const commands = await hub.db
      .selectFrom('commands')
      .select('device_id')
      .where('params', 'like', `%${r.id}%`)
      .execute();
    expect(commands).toHaveLength(2);
  }, 60_000);
});
