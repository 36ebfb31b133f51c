import { createHash } from 'node:crypto';
import { canonicalJson } from '../common';
import { createUlidGenerator } from '../ids';
import type { MessageType } from '../messages/catalog';
import type { Command } from '../messages/command';
import type { Config } from '../messages/config';
import { type Envelope, makeEnvelope } from '../messages/envelope';
import { bundleManifestBytes } from '../recipe/bundle';
import type { BundleManifest, PriceList, Recipe, RecipeBundle, RecipeSet } from '../recipe/recipe';
import { type ArtifactManifest, manifestBytes } from '../updates/manifest';
import { MANIFEST_TYP, RECIPE_BUNDLE_TYP } from '../updates/signing';

/**
 * Realistic example of every message, shared by the round-trip tests and docs/protocol.md. Deterministic
 * (fixed clock and random source) so the generated document is stable.
 */
export const EXAMPLE_DEVICE_ID = 'cm4-lisbon-0042';
/** 2026-11-21T10:00:00Z */
export const EXAMPLE_T0 = 1_795_255_200_000;

let tick = 0;
let seed = 7;
const nextId = createUlidGenerator(
  () => EXAMPLE_T0 + tick++ * 1500,
  (n) =>
    Uint8Array.from({ length: n }, () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed >> 16;
    }),
);
const at = (s: number) => EXAMPLE_T0 + s * 1000;
const sha = (value: unknown) => createHash('sha256').update(canonicalJson(value)).digest('hex');

const fields = (seq: number, seconds: number) => ({
  id: nextId(),
  deviceId: EXAMPLE_DEVICE_ID,
  seq,
  ts: at(seconds),
});

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');

/** A compact JWS as the hub signs it; the signature bytes are a placeholder: no real key signed them. */
const exampleJws = (typ: string, payload: Uint8Array, label: string) =>
  [
    b64url(JSON.stringify({ alg: 'EdDSA', kid: 'hub-release-2026', typ })),
    b64url(payload),
    b64url(Buffer.from(sha('hub-release-2026') + sha(label), 'hex')),
  ].join('.');

export const exampleRecipes: Recipe[] = [
  {
    id: 'espresso',
    name: 'Espresso',
    description: 'A short, dense coffee',
    steps: [
      { op: 'cup' },
      { op: 'heat', targetC: 93 },
      { op: 'grind', grams: 9 },
      { op: 'preinfuse', ms: 3000 },
      { op: 'brew', ml: 30, tempC: 93, pressureBar: 9 },
      { op: 'dispense' },
    ],
    sizes: [
      { id: 'S', label: 'Single', scale: 1 },
      { id: 'M', label: 'Double', scale: 2 },
    ],
  },
  {
    id: 'flat_white',
    name: 'Flat white',
    steps: [
      { op: 'cup' },
      { op: 'heat', targetC: 92 },
      { op: 'grind', grams: 16 },
      { op: 'brew', ml: 40, tempC: 92, pressureBar: 9, timeoutMs: 45_000 },
      { op: 'milk', ml: 110, tempC: 60, foam: true },
      { op: 'dispense' },
    ],
    sizes: [
      { id: 'M', label: 'Regular', scale: 1 },
      { id: 'L', label: 'Large', scale: 1.5 },
    ],
  },
];

export const examplePriceList: PriceList = {
  version: 7,
  currency: 'EUR',
  items: [
    { recipeId: 'espresso', size: 'S', amount: 150 },
    { recipeId: 'espresso', size: 'M', amount: 220 },
    { recipeId: 'flat_white', size: 'M', amount: 320 },
    { recipeId: 'flat_white', size: 'L', amount: 390 },
  ],
};

const recipeSet: RecipeSet = { recipes: exampleRecipes, prices: examplePriceList };

/** What the example bundle's JWS carries as its payload. */
export const exampleBundleManifest: BundleManifest = {
  kind: 'recipe_set',
  merchantId: 'm_lisboa_coffee',
  version: 12,
  createdAt: at(-86_400),
  sha256: sha(recipeSet),
};

export const exampleRecipeBundle: RecipeBundle = {
  manifest: exampleJws(RECIPE_BUNDLE_TYP, bundleManifestBytes(exampleBundleManifest), 'recipes:sig'),
  payload: recipeSet,
};

export const exampleConfig: Config = {
  version: 4,
  settings: { heartbeatIntervalS: 30, telemetryIntervalS: 10, lowLevelPct: 15, screenMessage: 'Bom dia!' },
};

export const exampleArtifactManifest: ArtifactManifest = {
  kind: 'brewer-firmware',
  version: '1.5.0',
  models: ['crema-cm4-a'],
  size: 262_144,
  sha256: sha('brewer-1.5.0.img'),
  minVersion: '1.2.0',
  notes: 'Faster boiler warm-up',
  createdAt: at(-172_800),
};

/** The manifest as the compact JWS an upgrade command carries; the signature bytes are a placeholder. */
export const exampleManifestJws = exampleJws(
  MANIFEST_TYP,
  manifestBytes(exampleArtifactManifest),
  'manifest:sig',
);

const cmd = (n: number) => ({
  commandId: `cmd_${n}`,
  idempotencyKey: `idem_${n}`,
  issuedAt: at(60 + n),
  expiresAt: at(60 + n + 3600),
});

export const exampleCommands: Command[] = [
  { ...cmd(1), kind: 'lock', params: { reason: 'Cleaning in progress' } },
  { ...cmd(2), kind: 'unlock', params: {} },
  { ...cmd(3), kind: 'set_prices', params: { prices: examplePriceList } },
  { ...cmd(4), kind: 'install_recipes', params: { bundle: exampleRecipeBundle } },
  { ...cmd(5), kind: 'set_config', params: { config: exampleConfig } },
  { ...cmd(6), kind: 'rinse', params: { cycles: 2 } },
  { ...cmd(7), kind: 'restart', params: { target: 'agent' } },
  { ...cmd(8), kind: 'diagnostics', params: {} },
  { ...cmd(9), kind: 'upgrade_firmware', params: { rolloutId: 'ro_17', manifest: exampleManifestJws } },
  { ...cmd(10), kind: 'upgrade_agent', params: { rolloutId: 'ro_18', manifest: exampleManifestJws } },
  { ...cmd(11), kind: 'trust_keys', params: { statements: [exampleManifestJws] } },
  { ...cmd(12), kind: 'descale', params: {} },
];

const order = makeEnvelope('order', fields(41, 10), {
  orderId: 'ord_01HZX3',
  event: 'paid',
  recipeId: 'flat_white',
  size: 'M',
  amount: 320,
  currency: 'EUR',
  method: 'card',
  at: at(10),
});
const payment = makeEnvelope('payment', fields(42, 11), {
  paymentId: 'pay_01HZX3',
  orderId: 'ord_01HZX3',
  event: 'authorized',
  amount: 320,
  currency: 'EUR',
  terminalRef: 'T8841207',
  at: at(11),
});

/** Examples per message type; the first of each list is the one the docs show in the payload section. */
export const MessageExamples: { [T in MessageType]: Envelope<T>[] } = {
  birth: [
    makeEnvelope('birth', fields(0, 0), {
      model: 'crema-cm4-a',
      firmwareVersion: '3.1.0',
      agentVersion: '2.4.0',
      capabilities: ['milk', 'hot_water', 'card_payment', 'firmware_update', 'http_fallback'],
      recipeSetVersion: 12,
      priceListVersion: 7,
      configVersion: 4,
      lastSeq: 40,
      bootId: 'boot_7f3a9c',
    }),
  ],
  death: [
    makeEnvelope('death', fields(0, 0), { reason: 'lost', bootId: 'boot_7f3a9c' }),
    makeEnvelope('death', fields(0, 900), { reason: 'shutdown', bootId: 'boot_7f3a9c' }),
  ],
  heartbeat: [
    makeEnvelope('heartbeat', fields(0, 30), {
      state: 'idle',
      uptimeS: 86_430,
      outboxDepth: 0,
      lastSeq: 40,
      salesLocked: false,
      maintenance: {
        rinse: { status: 'ok', lastAt: at(-3600), drinksSince: 12, overdueAt: at(-3600 + 26 * 3600) },
        descale: { status: 'due', lastAt: at(-29 * 86_400), drinksSince: 2950, overdueAt: at(2 * 86_400) },
        salesLocked: false,
        running: null,
      },
    }),
  ],
  order: [
    order,
    makeEnvelope('order', fields(45, 80), {
      orderId: 'ord_01HZX4',
      event: 'failed',
      recipeId: 'espresso',
      size: 'S',
      amount: 150,
      currency: 'EUR',
      method: 'card',
      code: 'NO_CUP',
      reason: 'The cup dropper failed',
      at: at(80),
    }),
  ],
  payment: [
    payment,
    makeEnvelope('payment', fields(46, 81), {
      paymentId: 'pay_01HZX4',
      orderId: 'ord_01HZX4',
      event: 'voided',
      amount: 150,
      currency: 'EUR',
      terminalRef: 'T8841208',
      at: at(81),
    }),
  ],
  alarm: [
    makeEnvelope('alarm', fields(43, 20), {
      code: 'milk_low',
      state: 'raised',
      severity: 'warning',
      message: 'Milk below 15 %',
      value: 180,
      at: at(20),
    }),
  ],
  command_result: [
    makeEnvelope('command_result', fields(44, 70), {
      commandId: 'cmd_8',
      status: 'succeeded',
      output: { boilerTempC: 92.6, outboxDepth: 0, faults: [] },
      at: at(70),
    }),
    makeEnvelope('command_result', fields(47, 95), {
      commandId: 'cmd_6',
      status: 'failed',
      code: 'DOOR_OPEN',
      message: 'The service door is open',
      at: at(95),
    }),
  ],
  materials: [
    makeEnvelope('materials', fields(48, 100), {
      levels: [
        { material: 'water', level: 3420, capacity: 5000, unit: 'ml' },
        { material: 'beans', level: 812, capacity: 1200, unit: 'g' },
        { material: 'milk', level: 180, capacity: 1200, unit: 'ml' },
        { material: 'cups', level: 64, capacity: 150, unit: 'pcs' },
        { material: 'waste', level: 38, capacity: 100, unit: 'pct' },
      ],
      at: at(100),
    }),
    // Bins by number with the material bound to each: here the milk line (bin 3) carries oat milk.
    makeEnvelope('materials', fields(48, 105), {
      levels: [
        { bin: 1, material: 'water', level: 3400, capacity: 5000, unit: 'ml' },
        { bin: 2, material: 'beans', level: 800, capacity: 1200, unit: 'g' },
        { bin: 3, material: 'oat_milk', level: 950, capacity: 1200, unit: 'ml' },
        { bin: 4, material: 'cups', level: 63, capacity: 150, unit: 'pcs' },
        { bin: 5, material: 'waste', level: 39, capacity: 100, unit: 'pct' },
      ],
      at: at(105),
    }),
  ],
  telemetry: [
    makeEnvelope('telemetry', fields(49, 110), {
      samples: [
        { ts: at(100), metric: 'boiler_temp_c', value: 92.8 },
        { ts: at(100), metric: 'pump_pressure_bar', value: 0 },
        { ts: at(110), metric: 'boiler_temp_c', value: 93.1 },
      ],
    }),
  ],
  command_progress: [
    makeEnvelope('command_progress', fields(0, 65), {
      commandId: 'cmd_6',
      status: 'executing',
      percent: 50,
      message: 'Rinse cycle 1 of 2',
      at: at(65),
    }),
  ],
  batch: [makeEnvelope('batch', fields(0, 120), { records: [order, payment] })],
  command: exampleCommands.map((c, i) =>
    makeEnvelope('command', { ...fields(0, 60 + i), deviceId: EXAMPLE_DEVICE_ID }, c),
  ),
  ack: [
    makeEnvelope('ack', fields(0, 121), {
      ids: [order.id, payment.id],
      rejected: [],
    }),
  ],
  update_progress: [
    makeEnvelope('update_progress', fields(50, 400), {
      rolloutId: 'ro_17',
      kind: 'brewer-firmware',
      version: '1.5.0',
      fromVersion: '1.4.2',
      stage: 'installing',
      pct: 40,
      at: at(400),
    }),
    makeEnvelope('update_progress', fields(51, 520), {
      rolloutId: 'ro_17',
      kind: 'brewer-firmware',
      version: '1.5.0',
      fromVersion: '1.4.2',
      stage: 'rolled_back',
      reason: 'HEALTH_CHECK_FAILED',
      detail: 'boiler 61.5 C after 300 s, wanted 92 C',
      at: at(520),
    }),
  ],
};
