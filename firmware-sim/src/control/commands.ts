import { SimError } from '../errors';
import type { Simulator } from '../simulator';
import { dispenseLog, faultList, machineState, paymentsSummary, refill } from './actions';

export const COMMAND_HELP = [
  'fault <name> on [key=value ...]   inject a fault (e.g. fault serial_slow on ms=3000)',
  'fault <name> off                  clear it',
  'faults                            known and active faults',
  'refill [water_ml=N|full ...]      refill supplies (all, and empty the bin, without arguments)',
  'state | payments | dispenses      print the machine state, payment ledger, dispense log',
  'help | quit',
].join('\n');

export type CommandResult =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: string; message: string } };

/** Runs one stdin command line; the same actions as the control endpoint. */
export function runCommand(sim: Simulator, line: string): CommandResult | 'quit' | undefined {
  const [cmd, ...rest] = line.trim().split(/\s+/);
  if (!cmd) return undefined;
  try {
    switch (cmd) {
      case 'fault': {
        const [name = '', mode = '', ...kv] = rest;
        if (mode === 'on') return { ok: true, result: sim.faults.inject(name, keyValues(kv)) };
        if (mode === 'off') return { ok: true, result: sim.faults.clear(name) };
        throw new SimError('VALIDATION_FAILED', 'usage: fault <name> on|off [key=value ...]');
      }
      case 'faults':
        return { ok: true, result: faultList(sim) };
      case 'refill': {
        const kv = keyValues(rest);
        const body = Object.fromEntries(
          Object.entries(kv).map(([k, v]) => [k, v === 'full' ? v : Number(v)]),
        );
        return { ok: true, result: refill(sim, body) };
      }
      case 'state':
        return { ok: true, result: machineState(sim) };
      case 'payments':
        return { ok: true, result: paymentsSummary(sim) };
      case 'dispenses':
        return { ok: true, result: dispenseLog(sim) };
      case 'help':
        return { ok: true, result: COMMAND_HELP };
      case 'quit':
      case 'exit':
        return 'quit';
      default:
        throw new SimError('VALIDATION_FAILED', `unknown command '${cmd}' (try help)`);
    }
  } catch (e) {
    const code = e instanceof SimError ? e.code : 'INTERNAL';
    return { ok: false, error: { code, message: e instanceof Error ? e.message : String(e) } };
  }
}

function keyValues(parts: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new SimError('VALIDATION_FAILED', `expected key=value, got '${p}'`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}
