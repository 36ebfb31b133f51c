/** Physical constants of one machine model: capacities, rates and limits. */
export type MachineSpec = {
  model: string;
  fw: string;
  capacity: { water_ml: number; beans_g: number; milk_ml: number; cups: number; waste_g: number };
  ambientC: number;
  /** Temperature the heater would settle at if never switched off: sets the shape of the heat-up curve. */
  heaterPlateauC: number;
  /** Heating rate at ambient temperature, °C per second. */
  heatRateCps: number;
  /** Fraction of the boiler-to-ambient difference lost per second. */
  coolingPerS: number;
  /** Over-temperature cutout. */
  maxTempC: number;
  defaultTargetC: number;
  thermostatBandC: number;
  pumpMaxBar: number;
  brewFlowMlPerS: number;
  waterFlowMlPerS: number;
  milkFlowMlPerS: number;
  grindGPerS: number;
  cupDropMs: number;
  dispenseMs: number;
  rinseCycleMs: number;
  rinseCycleMl: number;
  /** A descale: fill with descaling solution, soak, flush; the phases' shares of `descaleMs` are fixed. */
  descaleMs: number;
  descaleMl: number;
  /** Below these the supply counts as empty. */
  minimum: { water_ml: number; beans_g: number; milk_ml: number };
};

const cm1: MachineSpec = {
  model: 'cm-1',
  fw: '1.4.2',
  capacity: { water_ml: 5000, beans_g: 1000, milk_ml: 2000, cups: 100, waste_g: 800 },
  ambientC: 20,
  heaterPlateauC: 130,
  heatRateCps: 1.6,
  coolingPerS: 1 / 1500,
  maxTempC: 105,
  defaultTargetC: 92,
  thermostatBandC: 0.3,
  pumpMaxBar: 15,
  brewFlowMlPerS: 1.5,
  waterFlowMlPerS: 10,
  milkFlowMlPerS: 6,
  grindGPerS: 2.5,
  cupDropMs: 800,
  dispenseMs: 1000,
  rinseCycleMs: 3000,
  rinseCycleMl: 50,
  descaleMs: 900_000,
  descaleMl: 1000,
  minimum: { water_ml: 30, beans_g: 5, milk_ml: 10 },
};

const cm2: MachineSpec = {
  ...cm1,
  model: 'cm-2',
  fw: '2.1.0',
  capacity: { water_ml: 10000, beans_g: 2000, milk_ml: 4000, cups: 200, waste_g: 1600 },
  heatRateCps: 2.2,
};

export const MachineSpecs: Record<string, MachineSpec> = { 'cm-1': cm1, 'cm-2': cm2 };

export function specOf(model: string): MachineSpec | undefined {
  return Object.hasOwn(MachineSpecs, model) ? MachineSpecs[model] : undefined;
}
