import type { BrewerRequestArgs, Frame, ProtocolError } from '@crema/protocol';
import type { z } from 'zod';
import { BOOTLOADER_VERBS, type BootRunner } from '../boot/boot-runner';
import type { LinePort } from '../link/line-port';
import type { Logger } from '../log';
import type { Machine, MachineEvent } from '../model/machine';
import type { Operations } from '../model/operations';
import { ok, round1, type StepResult } from '../model/steps';

type Args<V extends keyof typeof BrewerRequestArgs> = z.infer<(typeof BrewerRequestArgs)[V]>;

/**
 * The brewer controller board: answers the brewer line protocol on every connected port (pty and TCP share
 * one machine) and broadcasts the machine's events to all of them.
 */
export class BrewerController {
  private readonly ports = new Set<LinePort>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly machine: Machine,
    private readonly ops: Operations,
    private readonly serial: string,
    private readonly logger: Logger,
    private readonly boot: BootRunner,
  ) {}

  start(): void {
    this.unsubscribe = this.machine.onEvent((e) => this.broadcast(e));
    this.boot.start(() => {
      for (const p of this.ports) this.announce(p);
    });
  }

  stop(): void {
    this.boot.stop();
    this.unsubscribe?.();
    for (const p of this.ports) p.close();
    this.ports.clear();
  }

  /** Serves one connection; announces READY on it (power-up or link restored). */
  attach(port: LinePort): void {
    this.ports.add(port);
    port.start({
      onRequest: (frame) => void this.handle(port, frame),
      // The documented answer: BAD_ARGS, `msg` led by the failure code (LinePort clips it to one value).
      onBadRequest: (id, error: ProtocolError) =>
        port.reply(id, 'ERR', { code: 'BAD_ARGS', msg: `${error.code}: ${error.message}` }),
      onClose: () => this.ports.delete(port),
    });
    if (!this.boot.down) this.announce(port);
    this.logger.info({ port: port.description }, 'brewer link up');
  }

  private announce(port: LinePort): void {
    port.event('READY', { fw: this.machine.spec.fw, model: this.machine.spec.model });
  }

  private broadcast(e: MachineEvent): void {
    // A controller that is rebooting or has crashed says nothing.
    if (this.boot.down) return;
    for (const p of this.ports) {
      switch (e.type) {
        case 'fault':
          p.event('FAULT', { code: e.code });
          break;
        case 'clear':
          p.event('CLEAR', { code: e.code });
          break;
        case 'cup':
          p.event('CUP', { state: e.state });
          break;
        case 'door':
          p.event('DOOR', { state: e.state });
          break;
        case 'progress':
          // On the wire `op` is the step's verb as requested (BREW), whatever the model calls it.
          p.event('PROGRESS', { op: e.op.toUpperCase(), pct: e.pct });
          break;
      }
    }
  }

  private async handle(port: LinePort, frame: Frame): Promise<void> {
    if (this.boot.down) return;
    const result = await this.execute(frame);
    // A reply computed before a crash or reset is lost with it.
    if (this.boot.down && frame.verb !== 'REBOOT') return;
    if (result.ok) port.reply(frame.id, 'OK', result.values);
    else {
      const args: Record<string, string> = { code: result.code };
      if (result.fault) args.fault = result.fault;
      if (result.msg) args.msg = result.msg;
      port.reply(frame.id, 'ERR', args);
    }
    this.logger.debug({ verb: frame.verb, id: frame.id, ok: result.ok }, 'brewer request');
  }

  private execute(frame: Frame): Promise<StepResult> | StepResult {
    const a = frame.args as Record<string, unknown>;
    const ops = this.ops;
    if (this.boot.refuses(frame.verb)) return { ok: false, code: 'WRONG_MODE', msg: 'bootloader mode' };
    if (BOOTLOADER_VERBS.has(frame.verb)) {
      if (frame.verb === 'REBOOT' && ops.busy) void ops.stop();
      return this.boot.execute(frame, ops.busy !== undefined);
    }
    switch (frame.verb) {
      case 'PING':
        return ok();
      case 'INFO':
        return ok({ fw: this.machine.spec.fw, model: this.machine.spec.model, serial: this.serial });
      case 'STATUS':
        return ok(this.status());
      case 'STOP':
        return ops.stop();
      case 'RESET':
        return ops.reset();
      case 'HEAT':
        return ops.heat((a as Args<'HEAT'>).temp_c);
      case 'CUP':
        return ops.cup();
      case 'GRIND':
        return ops.grind((a as Args<'GRIND'>).g);
      case 'PREINFUSE':
        return ops.preinfuse((a as Args<'PREINFUSE'>).ms);
      case 'BREW': {
        const b = a as Args<'BREW'>;
        return ops.brew(b.ml, b.temp_c, b.bar);
      }
      case 'MILK': {
        const m = a as Args<'MILK'>;
        return ops.milk(m.ml, m.temp_c, m.foam);
      }
      case 'WATER':
        return ops.water((a as Args<'WATER'>).ml);
      case 'DOSE': {
        const d = a as Args<'DOSE'>;
        return ops.dose(d.bin, d.amt);
      }
      case 'DISPENSE':
        return ops.dispense();
      case 'RINSE':
        return ops.rinse((a as Args<'RINSE'>).cycles);
      case 'DESCALE':
        return ops.descale();
      default:
        return { ok: false, code: 'BAD_ARGS', msg: `unknown verb ${frame.verb}` };
    }
  }

  /** STATUS values, as `BrewerStatusSchema` parses them. */
  status(): Record<string, string | number> {
    const m = this.machine;
    const l = m.sensedLevels();
    const faults = m.activeFaults();
    const latched = faults.some((f) => f === 'grinder_jam' || f === 'boiler_overheat' || f === 'pump_fault');
    const values: Record<string, string | number> = {
      state: this.ops.busy ? 'busy' : latched ? 'fault' : 'idle',
      temp_c: round1(m.tempC),
      bar: round1(m.pressureBar),
      water_ml: Math.floor(l.water_ml),
      beans_g: round1(l.beans_g),
      milk_ml: Math.floor(l.milk_ml),
      cups: l.cups,
      waste_pct: round1(m.wastePct()),
      cup: m.cupSensed ? 1 : 0,
      door: m.doorOpen ? 'open' : 'closed',
    };
    // Always sent, empty when none: the document's STATUS has a fixed set of values.
    values.faults = fitValue(faults);
    return values;
  }
}

/** A frame value holds at most 96 characters: faults are listed in order of importance until it is full. */
function fitValue(faults: readonly string[]): string {
  let out = '';
  for (const f of faults) {
    const next = out ? `${out}:${f}` : f;
    if (next.length > 96) break;
    out = next;
  }
  return out;
}
