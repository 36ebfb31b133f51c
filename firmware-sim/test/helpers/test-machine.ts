import { seededRandom } from '@crema/protocol';
import { FaultRegistry } from '../../src/model/faults';
import { type Levels, Machine } from '../../src/model/machine';
import { Operations } from '../../src/model/operations';
import { MachineSpecs } from '../../src/model/specs';
import { ManualClock } from '../../src/time/manual-clock';

/** A machine on virtual time, for unit tests. */
export function testMachine(
  opts: { seed?: number; initialTempC?: number; levels?: Partial<Levels>; stepTickMs?: number } = {},
) {
  const clock = new ManualClock();
  const faults = new FaultRegistry();
  const machine = new Machine({
    spec: MachineSpecs['cm-1']!,
    clock,
    random: seededRandom(opts.seed ?? 42),
    faults,
    initialTempC: opts.initialTempC,
    levels: opts.levels,
  });
  const ops = new Operations(machine, opts.stepTickMs);
  machine.start();
  return { clock, faults, machine, ops };
}

/** Runs a step to completion by advancing virtual time until it settles. */
export async function settle<T>(clock: ManualClock, p: Promise<T>, maxMs = 600_000): Promise<T> {
  let done = false;
  let value: T | undefined;
  void p.then((v) => {
    done = true;
    value = v;
  });
  for (let t = 0; t < maxMs && !done; t += 100) await clock.advance(100);
  if (!done) throw new Error(`step did not finish within ${maxMs} ms of virtual time`);
  return value as T;
}
