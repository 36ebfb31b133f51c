import type { BrewerError, BrewerFault } from '@crema/protocol';

export type StepResult =
  | { ok: true; values: Record<string, string> }
  | { ok: false; code: BrewerError; fault?: BrewerFault; msg?: string };

export const ok = (values: Record<string, string | number> = {}): StepResult => ({
  ok: true,
  values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)])),
});

export const refuse = (code: BrewerError, fault?: BrewerFault, msg?: string): StepResult => ({
  ok: false,
  code,
  ...(fault ? { fault } : {}),
  ...(msg ? { msg } : {}),
});

/** Thrown inside a running step to end it with an ERR reply. */
export class StepEnded {
  constructor(readonly result: StepResult) {}
}

export const round1 = (v: number): number => Math.round(v * 10) / 10;

/** What went into the cup since it was placed: logged when the drink is dispensed. */
export type DrinkContents = { beansG: number; coffeeMl: number; milkMl: number; waterMl: number };

export type DispenseRecord = { seq: number; at: number; atIso: string } & DrinkContents;
