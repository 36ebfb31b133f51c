import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from './support/hub';
import { waitFor } from './support/ledger';
import { TestMachine } from './support/machine';

type Compliance = {
  deviceId: string;
  overdue: boolean;
  salesLocked: boolean;
  descale: { status: string; drinksSince: number; lastAt: number | null };
};
type Alarm = { code: string; severity: string; status: string; source: string };

/**
 * Cleaning compliance from a machine to the hub and back: an overdue descale locks the machine's sales and
 * raises `descale_overdue` on the hub; a `descale` command from the hub runs it on the brewer, unlocks sales
 * and clears the alarm.
 */
describe('cleaning compliance end to end', () => {
  let dir: string;
  let hub: TestHub;
  let machine: TestMachine;
  const deviceId = 'cm-braga-0003';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'crema-scenario-clean-'));
    hub = new TestHub(join(dir, 'hub'));
    await hub.start();
    const merchant = await hub.createMerchant('Braga Coffee');
    machine = new TestMachine(deviceId, dir, hub, await hub.registerDevice(deviceId, merchant));
    // A descale is 15 simulated minutes: about six seconds here.
    machine.timeScale = 150;
    machine.maintenance = {
      rinse: { everyDrinks: 1000, autoRun: false },
      descale: { everyDrinks: 2, graceDrinks: 0 },
      lockWhenOverdue: true,
    };
    await machine.start();
    await waitFor(() => machine.sync?.state === 'mqtt', 15_000, 'machine online');
  }, 30_000);
  afterAll(async () => {
    await machine?.stop();
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const compliance = async () =>
    (await hub.call<{ items: Compliance[] }>('GET', `/api/v1/maintenance?deviceId=${deviceId}`)).items[0];
  const openAlarms = async () =>
    (await hub.call<{ items: Alarm[] }>('GET', `/api/v1/alarms?deviceId=${deviceId}&status=open`)).items;

  it('an overdue descale locks sales and raises descale_overdue; a descale command clears both', async () => {
    await machine.sell(2);
    expect(machine.agent?.orders?.salesRefusal()).toBe('MAINTENANCE_OVERDUE');
    await waitFor(async () => (await compliance())?.salesLocked === true, 15_000, 'the report on the hub');
    expect(await compliance()).toMatchObject({
      overdue: true,
      descale: { status: 'overdue', drinksSince: 2 },
    });
    await waitFor(async () => (await openAlarms()).length > 0, 15_000, 'the alarm');
    expect(await openAlarms()).toMatchObject([
      { code: 'descale_overdue', severity: 'critical', status: 'raised', source: 'maintenance' },
    ]);
    const detail = await hub.call<{ maintenance: Compliance | null }>('GET', `/api/v1/devices/${deviceId}`);
    expect(detail.maintenance).toMatchObject({ overdue: true, salesLocked: true });

    const descale = await hub.command(deviceId, 'descale');
    await waitFor(
      async () => (await hub.getCommand(descale.id)).status === 'succeeded',
      60_000,
      'the descale command',
    );
    expect((await hub.getCommand(descale.id)).result?.output).toMatchObject({ waterMl: 1000 });
    expect(machine.agent?.orders?.salesRefusal()).toBeUndefined();
    await waitFor(async () => (await openAlarms()).length === 0, 15_000, 'the alarm to clear');
    expect(await compliance()).toMatchObject({
      overdue: false,
      salesLocked: false,
      descale: { status: 'ok', drinksSince: 0, lastAt: expect.any(Number) },
    });
  }, 120_000);
});
