import { z } from 'zod';
import { SimError } from '../errors';
import { FAULT_NAMES } from '../model/faults';
import { round1 } from '../model/steps';
import type { Simulator } from '../simulator';

/** What the control endpoint and the stdin commands can do; both call these. */

export const RefillSchema = z
  .object({
    water_ml: z.union([z.number().min(0), z.literal('full')]).optional(),
    beans_g: z.union([z.number().min(0), z.literal('full')]).optional(),
    milk_ml: z.union([z.number().min(0), z.literal('full')]).optional(),
    cups: z.union([z.number().int().min(0), z.literal('full')]).optional(),
    waste_g: z.union([z.number().min(0), z.literal('full')]).optional(),
  })
  .strict();

export function machineState(sim: Simulator) {
  const m = sim.model;
  const levels = m.sensedLevels();
  return {
    model: m.spec.model,
    fw: m.spec.fw,
    time: m.clock.now(),
    busy: sim.operations.busy ?? null,
    tempC: round1(m.tempC),
    targetC: m.physics.targetC,
    heating: m.physics.heating,
    pressureBar: round1(m.pressureBar),
    levels: {
      water_ml: Math.floor(levels.water_ml),
      beans_g: round1(levels.beans_g),
      milk_ml: Math.floor(levels.milk_ml),
      cups: levels.cups,
      waste_pct: round1(m.wastePct()),
    },
    capacity: { ...m.capacity },
    cupPresent: m.cupSensed,
    doorOpen: m.doorOpen,
    faults: m.activeFaults(),
    injected: sim.faults.list(),
    actuators: { ...m.actuators, heater: m.physics.heaterEnabled },
    counters: { ...m.counters, waterUsedMl: Math.round(m.counters.waterUsedMl) },
  };
}

export function faultList(sim: Simulator) {
  return { known: FAULT_NAMES, active: sim.faults.list() };
}

export function refill(sim: Simulator, body: unknown) {
  const parsed = RefillSchema.safeParse(body ?? {});
  if (!parsed.success) {
    throw new SimError('VALIDATION_FAILED', parsed.error.issues[0]?.message ?? 'bad refill request');
  }
  const clean = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
  sim.model.refill(clean);
  return machineState(sim).levels;
}

export function paymentsSummary(sim: Simulator) {
  const orders = sim.payments.orders();
  return {
    orders,
    totals: {
      orders: orders.length,
      transactions: sim.payments.size,
      captureRequests: orders.reduce((n, o) => n + o.captureRequests, 0),
      captured: orders.reduce((n, o) => n + o.captured, 0),
      voided: orders.reduce((n, o) => n + o.voided, 0),
      /** Orders with more than one CAPTURE request or more than one captured transaction. */
      doubleCaptures: orders.filter((o) => o.captureRequests > 1 || o.captured > 1).length,
    },
  };
}

export function dispenseLog(sim: Simulator) {
  const dispenses = sim.dispenses();
  return { count: dispenses.length, dispenses };
}
