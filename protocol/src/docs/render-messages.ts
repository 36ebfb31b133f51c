import { ErrorCodes } from '../errors';
import { Limits } from '../limits';
import { MESSAGE_TYPES, MessageCatalog } from '../messages/catalog';
import { EnvelopeHeaderSchema } from '../messages/envelope';
import { CommandPollSchema, DEVICE_HTTP_PATHS } from '../messages/http';
import { TOPIC_ROOT, topicForType } from '../topics';
import { PROTOCOL_MAJOR, PROTOCOL_MINOR, PROTOCOL_VERSION } from '../version';
import { MessageExamples } from './examples';
import { FieldNotes } from './field-notes';
import { anchorOf, fieldTable, type JsonSchema, SharedObjects, toJsonSchema } from './schema-table';

export const json = (value: unknown) => `\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\``;

export function renderVersion(): string {
  return `Current version: \`${PROTOCOL_VERSION}\` (major ${PROTOCOL_MAJOR}, minor ${PROTOCOL_MINOR}); topic root \`${TOPIC_ROOT}\`.`;
}

export function renderTopics(): string {
  const lines = [
    '| type | topic (device `<id>`) | direction | QoS | retain | record | priority | max bytes |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const t of MESSAGE_TYPES) {
    const m = MessageCatalog[t];
    lines.push(
      `| [\`${t}\`](#${anchorOf(`message ${t}`)}) | \`${topicForType('<id>', t)}\` | ${m.dir === 'up' ? 'device → hub' : 'hub → device'} | ${m.qos} | ${m.retain ? 'yes' : 'no'} | ${m.record ? 'yes' : 'no'} | ${m.record ? m.priority : '–'} | ${m.maxBytes} |`,
    );
  }
  return lines.join('\n');
}

export function renderEnvelope(): string {
  const table = fieldTable(toJsonSchema(EnvelopeHeaderSchema), FieldNotes.envelope);
  const body =
    '| `body` | object | yes | see the message type | The payload; its schema is chosen by `type` |';
  return [`${table}\n${body}`, '', 'Example (an order record):', '', json(MessageExamples.order[0])].join(
    '\n',
  );
}

const commandVariants = (): JsonSchema[] => toJsonSchema(MessageCatalog.command.schema).oneOf ?? [];

export function renderPayloads(): string {
  const out: string[] = [];
  for (const t of MESSAGE_TYPES) {
    const m = MessageCatalog[t];
    const examples = MessageExamples[t];
    out.push(`### Message ${t}`, '');
    out.push(
      `Topic \`${topicForType('<id>', t)}\`, ${m.dir === 'up' ? 'device → hub' : 'hub → device'}, QoS ${m.qos}, ${m.retain ? 'retained' : 'not retained'}, ${m.record ? `record (priority ${m.priority})` : 'not a record'}, at most ${m.maxBytes} bytes.`,
      '',
    );
    if (t === 'command') {
      out.push(renderCommand());
      continue;
    }
    out.push(fieldTable(toJsonSchema(m.schema), FieldNotes[t]), '');
    out.push('Example:', '', json(examples[0]), '');
  }
  return out.join('\n').trimEnd();
}

function renderCommand(): string {
  const variants = commandVariants();
  const common: JsonSchema = {
    type: 'object',
    properties: {
      ...Object.fromEntries(Object.entries(variants[0]?.properties ?? {}).filter(([k]) => k !== 'params')),
      kind: { enum: variants.map((v) => v.properties?.kind?.const) },
      params: { type: 'object' },
    },
    required: variants[0]?.required,
  };
  const out = [fieldTable(common, FieldNotes.command), ''];
  out.push('`kind` selects the shape of `params`:', '');
  for (const variant of variants) {
    const kind = String(variant.properties?.kind?.const);
    const params = variant.properties?.params ?? {};
    const example = MessageExamples.command.find((e) => e.body.kind === kind);
    out.push(`#### Command ${kind}`, '', fieldTable(params, FieldNotes[`command:${kind}`]), '');
    out.push('Example:', '', json(example), '');
  }
  return out.join('\n');
}

export function renderSharedObjects(): string {
  const out: string[] = [];
  for (const [name, schema] of Object.entries(SharedObjects)) {
    out.push(`### ${name}`, '');
    const js = toJsonSchema(schema);
    if (js.oneOf) {
      out.push('One of these shapes, chosen by `op`:', '');
      for (const variant of js.oneOf) {
        out.push(`#### Step ${String(variant.properties?.op?.const)}`, '', fieldTable(variant), '');
      }
    } else out.push(fieldTable(js, FieldNotes[name]), '');
  }
  return out.join('\n').trimEnd();
}

const HttpEndpoints: Record<
  keyof typeof DEVICE_HTTP_PATHS,
  { method: string; body: string; answer: string; suffix?: string }
> = {
  records: {
    method: 'POST',
    body: 'a `batch` envelope, at most `largeMessageBytes`',
    answer:
      '200 with an `ack` body (the same ids/rejected semantics as over MQTT); 503 `UNAVAILABLE` when nothing was stored in time (send again later)',
  },
  messages: {
    method: 'POST',
    body: '`birth`, `death`, `heartbeat` or `command_progress`, at most `messageBytes`',
    answer: '202, empty body',
  },
  commands: {
    method: 'GET',
    body: '(none)',
    answer: '200 with `{ "commands": Command[] }` (at most 100), pending commands for this device',
  },
  artifacts: {
    method: 'GET',
    suffix: '/{sha256}',
    body: '(none); `Range: bytes=N-` (or `N-M`, `-N`) resumes an interrupted download; `If-Range` with the ETag',
    answer:
      '200 with the artifact bytes, or 206 with `Content-Range` for a range; `ETag` = `"<sha256>"`, `Accept-Ranges: bytes`; 416 `RANGE_NOT_SATISFIABLE` (with `Content-Range: bytes */size`) for a range past the end; 404 `NOT_FOUND` when no update offered to this device names it',
  },
  trustKeys: {
    method: 'GET',
    body: '(none)',
    answer:
      '200 with `{ "statements": string[] }`: every key statement the hub issued, oldest first (§15); a device applies those it has not applied yet',
  },
  claim: {
    method: 'POST',
    body: '`{ "code", "deviceId", "model", "firmwareVersion"? }` without any credential (§2 "Claim codes")',
    answer:
      '201 with `{ "deviceId", "credential", "merchantId", "locationId" }`, the credential shown this once; 403 `CLAIM_CODE_INVALID` for any code that cannot be used (unknown, expired, revoked, used, or for another device id or model); 409 `CONFLICT` when the device id is taken; 429 `RATE_LIMITED` with `Retry-After`',
  },
};

export function renderHttp(): string {
  const lines = ['| method | path | body | answer |', '|---|---|---|---|'];
  for (const [key, path] of Object.entries(DEVICE_HTTP_PATHS)) {
    const e = HttpEndpoints[key as keyof typeof DEVICE_HTTP_PATHS];
    lines.push(`| ${e.method} | \`${path}${e.suffix ?? ''}\` | ${e.body} | ${e.answer} |`);
  }
  lines.push('', 'Command poll answer:', '', fieldTable(toJsonSchema(CommandPollSchema)));
  return lines.join('\n');
}

export function renderErrors(): string {
  const lines = ['| code | HTTP status | meaning |', '|---|---|---|'];
  for (const [c, e] of Object.entries(ErrorCodes)) lines.push(`| \`${c}\` | ${e.status} | ${e.message} |`);
  return lines.join('\n');
}

const LimitNotes: Record<keyof typeof Limits, string> = {
  messageBytes: 'One MQTT message or HTTP body, default (bytes of UTF-8)',
  largeMessageBytes: 'Messages that carry bundles or batches: `telemetry`, `batch`, `command` (bytes)',
  batchRecords: 'Records in one `batch`',
  telemetrySamples: 'Samples in one `telemetry` message',
  lineBytes: 'One serial or payment line, terminator included (bytes)',
  recipesPerBundle: 'Recipes in one bundle',
  ackIds: 'Ids in one `ack` (`ids` and `rejected` each)',
};

export function renderLimits(): string {
  const lines = ['| limit | value | applies to |', '|---|---|---|'];
  for (const [k, v] of Object.entries(Limits))
    lines.push(`| \`${k}\` | ${v} | ${LimitNotes[k as keyof typeof Limits]} |`);
  return lines.join('\n');
}
