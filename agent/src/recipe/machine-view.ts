import { type BrewerStatus, decodeFaultBits } from '@crema/protocol';
import type { AuxSnapshot } from '../drivers/modbus/types';
import { Bins } from '../monitor/bins';

/** What the preconditions look at, merged from the Modbus boards (preferred) and the brewer's STATUS. */
export type MachineView = {
  brewerConnected: boolean;
  tempC?: number;
  doorOpen?: boolean;
  /** Level per material code, through the bin bound to it; absent or undefined when unknown. */
  levels: Record<string, number | undefined>;
  bins: Bins;
  faults: Set<string>;
};

export function machineView(
  snapshot: AuxSnapshot,
  status: BrewerStatus | undefined,
  brewerFaults: Iterable<string>,
  brewerConnected: boolean,
  bins: Bins = new Bins(),
): MachineView {
  const v = snapshot.values;
  const faults = new Set<string>(brewerFaults);
  for (const raw of [v.boilerFaults, v.supplyFaults, v.sensorFaults]) {
    if (raw !== undefined) for (const f of decodeFaultBits(raw)) faults.add(f);
  }
  const door = v.doorOpen !== undefined ? v.doorOpen !== 0 : status ? status.door === 'open' : undefined;
  const view: MachineView = {
    brewerConnected,
    levels: bins.levelsByMaterial(snapshot, status),
    bins,
    faults,
  };
  const temp = v.boilerTemp ?? status?.temp_c;
  if (temp !== undefined) view.tempC = temp;
  if (door !== undefined) view.doorOpen = door;
  return view;
}
