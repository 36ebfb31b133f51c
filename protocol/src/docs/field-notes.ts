/**
 * What fields mean, per documented table (message type, `command:<kind>`, shared object or `envelope`).
 * A test checks that every path here exists in its table, so a renamed field cannot leave a stale note.
 */
export const FieldNotes: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  envelope: {
    v: 'Protocol version `major.minor` of the sender',
    id: 'ULID of this message: unique, sortable by time; the hub de-duplicates on it',
    deviceId: 'The device the message is from (uplink) or for (downlink); must match the topic',
    seq: 'Per-device record number, contiguous from 1 within an epoch; `0` for messages that are not records',
    ts: 'When the message was created, ms since the Unix epoch',
    epoch:
      'Optional (since 1.1): ULID of the device ledger. A new epoch (ledger reset) restarts `seq` at 1; the hub tracks sequences per (device, epoch) and raises a fleet event when it changes',
    type: 'Message type; selects the body schema',
  },
  birth: {
    model: 'Machine model',
    firmwareVersion: 'Brewer controller firmware version',
    agentVersion: 'Agent software version',
    capabilities: 'What this machine can do',
    recipeSetVersion: 'Version of the installed recipe bundle (0: none)',
    priceListVersion: 'Version of the installed price list (0: none)',
    configVersion: 'Version of the applied remote configuration (0: none)',
    lastSeq: 'Highest record `seq` produced so far, so the hub sees gaps at once',
    bootId: 'Changes on every agent start; ties birth and death together',
  },
  death: {
    reason: '`lost`: the broker published the last will; `shutdown`: clean goodbye',
    bootId: 'The `bootId` of the birth this ends',
  },
  heartbeat: {
    uptimeS: 'Seconds since the agent started',
    outboxDepth: 'Records waiting for acknowledgement',
    lastSeq: 'Highest record `seq` produced so far',
    salesLocked: 'Sales locked by a `lock` command',
    maintenance: 'Cleaning compliance (rinse and descale); optional, older agents omit it',
    'maintenance.rinse': 'The rinse: status against the policy, last done, drinks since, when it lapses',
    'maintenance.descale': 'The descale, like `rinse`',
    'maintenance.salesLocked': 'Sales refused with `MAINTENANCE_OVERDUE` until the overdue task is done',
    'maintenance.running': '`rinse` or `descale` while one runs, else null',
  },
  order: {
    orderId: 'Order id, stable across all events of one order',
    size: 'Size id of the recipe',
    amount: 'Price in minor units (cents)',
    code: 'Error code (from the catalogue) when `event` is `failed`',
    at: 'When the event happened',
  },
  payment: {
    amount: 'Minor units (cents)',
    terminalRef: 'Transaction id given by the payment terminal',
    code: 'Reason code of a decline or failure',
  },
  alarm: {
    value: 'The measured value that raised it, when there is one',
  },
  materials: {
    'levels[].bin':
      'Bin number on the machine; absent from agents that predate numbered bins (then the material is one of the five default kinds, in its default bin 1 to 5)',
    'levels[].material':
      'Code of the catalog material bound to the bin (`water`, `beans`, `milk`, `cups`, `waste` by default; any code such as `oat_milk`)',
    'levels[].level': 'Current amount, in `unit`',
    'levels[].capacity': 'Full amount, in `unit`',
  },
  telemetry: {
    'samples[].metric': 'snake_case name ending in its unit, e.g. `boiler_temp_c`',
  },
  update_progress: {
    rolloutId: 'The rollout this install belongs to',
    kind: 'What is being updated',
    version: 'The version being installed',
    fromVersion: 'The version that ran before; after `rolled_back` it runs again',
    stage: 'Where the install is; `succeeded`, `rolled_back` and `failed` end it',
    pct: 'Share of the stage done, where measurable (download, flash)',
    reason: 'Error code of the failure; required for `rolled_back` and `failed`',
    detail: 'Free text for people',
  },
  command_progress: {
    commandId: 'The `commandId` of the command',
    status: '`delivered`: received; `deferred`: waiting for a brew or payment to end; `executing`',
  },
  command_result: {
    commandId: 'The `commandId` of the command',
    code: 'Error code when `failed` or `expired`',
    output: 'Kind-specific output (e.g. the diagnostics snapshot)',
  },
  batch: {
    records:
      'Record envelopes (order, payment, alarm, command_result, materials, telemetry), each validated alone',
  },
  command: {
    commandId: 'Hub id of the command',
    idempotencyKey: 'Executed once per key, however often delivered',
    issuedAt: 'When the hub issued it',
    expiresAt: 'After this instant the device refuses it with COMMAND_EXPIRED',
    kind: 'What to do',
    params: 'Kind-specific parameters, below',
  },
  ack: {
    ids: 'Record ids durably stored: delete them from the outbox',
    rejected:
      'Messages refused for good, with their code: delete such records, never resend; a `batch` id here means none of its records was looked at',
    'rejected[].code': 'Error code from the catalogue',
  },
  'command:rinse': { cycles: 'Rinse cycles to run' },
  'command:restart': { target: 'What to restart' },
  RecipeBundle: {
    manifest:
      'Compact JWS (EdDSA, `typ` `crema-recipes+jws`); payload: `{ kind: "recipe_set", merchantId, version, createdAt, sha256 }`, `sha256` = sha256 (hex) of canonicalJson(payload); a device refuses a `version` older than the installed one',
  },
  Recipe: {
    steps: 'Starts with exactly one `cup` step, ends with `dispense`',
    'sizes[].scale': 'Multiplies every quantity (g, ml) of the steps',
  },
  PriceList: { 'items[].amount': 'Minor units (cents) in `currency`' },
  Config: {
    version: 'Configuration version; reported in `birth.configVersion`',
    'settings.syncRatePerS': 'Records per second the outbox may send',
    'settings.boilerTargetC': 'Boiler set point',
    'settings.lowLevelPct': 'Material level (% of capacity) that raises a `*_low` alarm',
    'settings.screenMessage': 'Text shown on the touchscreen',
    'settings.bins':
      "The machine's bin binding, replacing the installed one as a whole; each bin number and each material at most once",
    'settings.bins[].bin': 'Bin number (1 to 5: tank, hopper, milk line, cup stack, grounds bin)',
    'settings.bins[].material': 'Catalog material code the bin holds',
    'settings.bins[].capacity': "Overrides the capacity the bin's sensor reports",
  },
};
