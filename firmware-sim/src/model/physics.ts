import type { MachineSpec } from './specs';

/** The continuous part of the machine, advanced in fixed steps so results do not depend on who reads when. */
export type PhysicsState = {
  tempC: number;
  targetC: number;
  /** The heater coil: the thermostat may only heat while this is on. */
  heaterEnabled: boolean;
  /** Whether the heater element is powered right now (thermostat output). */
  heating: boolean;
  /** Heater cut by the over-temperature cutout. */
  cutout: boolean;
  pressureBar: number;
  pumpTargetBar: number;
};

export const PHYSICS_STEP_MS = 100;

export function initialPhysics(spec: MachineSpec, tempC = spec.ambientC): PhysicsState {
  return {
    tempC,
    targetC: spec.defaultTargetC,
    heaterEnabled: true,
    heating: false,
    cutout: false,
    pressureBar: 0,
    pumpTargetBar: 0,
  };
}

/** One fixed step: thermostat with hysteresis, first-order heating and cooling, pump pressure ramp. */
export function stepPhysics(s: PhysicsState, spec: MachineSpec, dtMs: number): void {
  const dt = dtMs / 1000;
  if (!s.heaterEnabled || s.cutout) s.heating = false;
  else if (s.tempC < s.targetC - spec.thermostatBandC) s.heating = true;
  else if (s.tempC >= s.targetC + spec.thermostatBandC) s.heating = false;

  const span = spec.heaterPlateauC - spec.ambientC;
  const heat = s.heating ? (spec.heatRateCps * (spec.heaterPlateauC - s.tempC)) / span : 0;
  const loss = spec.coolingPerS * (s.tempC - spec.ambientC);
  s.tempC += (heat - loss) * dt;

  const target = Math.min(s.pumpTargetBar, spec.pumpMaxBar);
  s.pressureBar += (target - s.pressureBar) * Math.min(1, dt / 0.3);
  if (Math.abs(s.pressureBar - target) < 0.005) s.pressureBar = target;
}
