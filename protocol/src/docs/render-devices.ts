import { BrewerDescription, BrewerFaultDescription } from '../line/brewer-describe';
import { crc16Hex } from '../line/crc16';
import type { DialectDescription } from '../line/describe';
import { encodeFrame, type Frame } from '../line/frame';
import { PaymentDescription } from '../line/payment-describe';
import { Boards, FaultBits, Registers, unitIdOf } from '../modbus/registers';
import { recipeConsumption } from '../recipe/recipe';
import { DEFAULT_STEP_TIMEOUT_MS, PhysicalLimits } from '../recipe/steps';
import { exampleRecipes } from './examples';

type AnyDescription = DialectDescription<string, string, string, string>;

const cell = (s: string) => (s === '' ? '–' : s.replace(/\|/g, '\\|'));

export function renderDialect(d: AnyDescription): string {
  const out = [
    'Requests (agent → device; prefix `>`):',
    '',
    '| verb | arguments | OK reply | ERR codes |',
    '|---|---|---|---|',
  ];
  for (const [verb, v] of Object.entries(d.request))
    out.push(`| \`${verb}\` | ${cell(v.args)} | ${cell(v.reply)} | ${cell(v.errors)} |`);
  out.push(
    '',
    'Replies (device → agent; prefix `<`, id of the request):',
    '',
    '| verb | arguments | meaning |',
    '|---|---|---|',
  );
  for (const [verb, v] of Object.entries(d.reply))
    out.push(`| \`${verb}\` | ${cell(v.args)} | ${cell(v.reply)} |`);
  out.push(
    '',
    'Events (device → agent, unsolicited; prefix `!`):',
    '',
    '| verb | arguments | meaning |',
    '|---|---|---|',
  );
  for (const [verb, v] of Object.entries(d.event))
    out.push(`| \`${verb}\` | ${cell(v.args)} | ${cell(v.reply)} |`);
  out.push('', 'ERR codes:', '', '| code | meaning |', '|---|---|');
  for (const [c, m] of Object.entries(d.errors)) out.push(`| \`${c}\` | ${cell(m)} |`);
  return out.join('\n');
}

const exchange = (frames: Frame[]) => `\`\`\`text\n${frames.map((f) => encodeFrame(f)).join('')}\`\`\``;

export function renderBrewer(): string {
  const faults = [
    'Faults (`fault=` in ERR, `code=` in FAULT/CLEAR, `faults=` in STATUS):',
    '',
    '| fault | meaning |',
    '|---|---|',
  ];
  for (const [f, m] of Object.entries(BrewerFaultDescription)) faults.push(`| \`${f}\` | ${m} |`);
  const example = exchange([
    { kind: 'request', id: 0x2a, verb: 'BREW', args: { ml: '40', temp_c: '92', bar: '9' } },
    { kind: 'event', id: 0x11, verb: 'PROGRESS', args: { op: 'BREW', pct: '50' } },
    { kind: 'reply', id: 0x2a, verb: 'OK', args: { ml: '40.2', temp_c: '92.1', bar: '8.9' } },
    { kind: 'request', id: 0x2b, verb: 'GRIND', args: { g: '16' } },
    { kind: 'reply', id: 0x2b, verb: 'ERR', args: { code: 'EMPTY', fault: 'beans_empty' } },
    { kind: 'event', id: 0x12, verb: 'FAULT', args: { code: 'beans_empty' } },
  ]);
  return [
    renderDialect(BrewerDescription),
    '',
    faults.join('\n'),
    '',
    'Example exchange:',
    '',
    example,
    '',
    BAD_REQUEST_RULE,
    '',
    badRequests(),
  ].join('\n');
}

/** The answer to a bad request, in words; the example below it is what a device sends. */
export const BAD_REQUEST_RULE =
  'A request whose id can be read but whose verb is unknown (`LINE_UNKNOWN_VERB`) or whose arguments are ' +
  'wrong (`VALIDATION_FAILED`) is answered `ERR code=BAD_ARGS`, with `msg` starting with that failure code and ' +
  'a colon. Any other bad line (checksum, framing, length) is dropped without a reply: the sender times out.';

function badRequests(): string {
  return exchange([
    { kind: 'request', id: 0x31, verb: 'BREW', args: { ml: '40' } },
    {
      kind: 'reply',
      id: 0x31,
      verb: 'ERR',
      args: { code: 'BAD_ARGS', msg: 'VALIDATION_FAILED: BREW: temp_c is required' },
    },
    { kind: 'request', id: 0x32, verb: 'FROTH', args: {} },
    {
      kind: 'reply',
      id: 0x32,
      verb: 'ERR',
      args: { code: 'BAD_ARGS', msg: 'LINE_UNKNOWN_VERB: request FROTH' },
    },
  ]);
}

export function renderPayment(): string {
  const example = exchange([
    { kind: 'request', id: 0x07, verb: 'AUTH', args: { amount: '320', cur: 'EUR', ref: 'ord_01HZX3' } },
    { kind: 'event', id: 0x03, verb: 'CARD', args: { state: 'presented' } },
    { kind: 'reply', id: 0x07, verb: 'OK', args: { txn: 'T8841207', state: 'authorized', amount: '320' } },
    { kind: 'request', id: 0x08, verb: 'CAPTURE', args: { txn: 'T8841207' } },
    { kind: 'reply', id: 0x08, verb: 'OK', args: { txn: 'T8841207', state: 'captured', amount: '320' } },
    { kind: 'request', id: 0x09, verb: 'VOID', args: { txn: 'T8841207' } },
    { kind: 'reply', id: 0x09, verb: 'ERR', args: { code: 'BAD_STATE' } },
  ]);
  return [renderDialect(PaymentDescription), '', 'Example exchange:', '', example].join('\n');
}

export function renderCrc(): string {
  const body = '>002A BREW ml=40 temp_c=92 bar=9';
  return [
    `Check value: CRC-16/CCITT-FALSE of the ASCII bytes \`123456789\` is \`0x${crc16Hex('123456789')}\`.`,
    '',
    `Worked example: the body \`${body}\` has CRC \`0x${crc16Hex(body)}\`, so the line on the wire is`,
    '',
    `\`\`\`text\n${body}*${crc16Hex(body)}\n\`\`\``,
    '',
    `A value with characters outside \`[A-Za-z0-9._:-]\` is percent-encoded as UTF-8 bytes: \`msg=door open\` is sent as \`${encodeFrame({ kind: 'reply', id: 1, verb: 'ERR', args: { code: 'DOOR_OPEN', msg: 'door open' } }).trim()}\`.`,
  ].join('\n');
}

export function renderModbus(): string {
  const out: string[] = [];
  for (const [board, b] of Object.entries(Boards)) {
    out.push(`#### Board ${board} (unit id ${b.unitId})`, '', `${b.description}.`, '');
    out.push(
      '| name | unit id | table | address | words | signed | scale | unit | description |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    for (const r of Object.values(Registers).filter((r) => r.board === board)) {
      out.push(
        `| \`${r.name}\` | ${unitIdOf(r)} | ${r.table} | ${r.address} | ${r.words} | ${r.signed ? 'yes' : 'no'} | ${r.scale} | ${r.unit} | ${r.description} |`,
      );
    }
    out.push('');
  }
  out.push(
    '#### Fault bits',
    '',
    "The same bit layout in every board's fault register (`*_faults`); bit 0 is the least significant.",
    '',
  );
  out.push('| bit | mask | fault |', '|---|---|---|');
  for (const [f, bit] of Object.entries(FaultBits))
    out.push(`| ${bit} | \`0x${(1 << bit).toString(16).toUpperCase().padStart(4, '0')}\` | \`${f}\` |`);
  return out.join('\n');
}

const LimitUnits: Record<keyof typeof PhysicalLimits, string> = {
  boilerTempC: '°C — `heat.targetC`, `brew.tempC`',
  milkTempC: '°C — `milk.tempC`',
  pressureBar: 'bar — `brew.pressureBar`',
  groundsG: 'g — `grind.grams`',
  waterMl: 'ml — `brew.ml`, `water.ml`',
  milkMl: 'ml — `milk.ml`',
  doseAmount: 'the material’s unit (g, ml) — `dose.amount`',
  preinfuseMs: 'ms — `preinfuse.ms`',
  stepTimeoutMs: 'ms — `timeoutMs` of any step',
};

export function renderRecipeLimits(): string {
  const out = ['| limit | min | max | unit — fields |', '|---|---|---|---|'];
  for (const [k, l] of Object.entries(PhysicalLimits))
    out.push(`| \`${k}\` | ${l.min} | ${l.max} | ${LimitUnits[k as keyof typeof PhysicalLimits]} |`);
  out.push(
    '',
    'Default step timeouts (when `timeoutMs` is absent):',
    '',
    '| step | timeout (ms) |',
    '|---|---|',
  );
  for (const [op, ms] of Object.entries(DEFAULT_STEP_TIMEOUT_MS)) out.push(`| \`${op}\` | ${ms} |`);
  const recipe = exampleRecipes[1];
  if (recipe) {
    const size = recipe.sizes[1]?.id ?? 'M';
    out.push(
      '',
      `Material consumption is the sum over the steps, scaled by the size, keyed by material code: \`cup\` takes 1 of \`cups\`, \`grind\` its grams of its \`material\` (\`beans\` when absent), \`brew\` and \`water\` their ml of \`water\`, \`milk\` its ml of its \`material\` (\`milk\` when absent, e.g. \`oat_milk\`). The four default kinds are always present. The agent draws each material from the bin bound to it; a drink needing a material no bin holds is refused with \`MATERIAL_INSUFFICIENT\`. For example \`${recipe.id}\` in size \`${size}\` consumes:`,
      '',
      '```json',
      JSON.stringify(recipeConsumption(recipe, size)),
      '```',
      '',
      'Example recipe:',
      '',
      '```json',
      JSON.stringify(recipe, null, 2),
      '```',
    );
  }
  return out.join('\n');
}
