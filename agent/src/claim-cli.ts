import { parseArgs } from 'node:util';
import { DeviceIdSchema, IdSchema } from '@crema/protocol';
import { AgentError } from './errors';
import { claimAndStore } from './sync/claim';
import { credentialPath } from './sync/credential-file';

export const CLAIM_USAGE = `usage: pnpm agent -- claim --code <claim code> --hub <https://hub…> --device-id <id> --data-dir <dir> [--model <model>]

Trades a one-time claim code (issued by an admin: POST /api/v1/claim-codes) for this machine's own hub
credential, stored in <dir>/hub-credential.json (mode 0600); the agent started on that data directory uses it.
Prints one JSON line {"event":"claimed",…} (never the credential). Refusals exit 1 with the hub's code, e.g.
CLAIM_CODE_INVALID (unknown, expired, revoked or used code), CONFLICT (device id taken), RATE_LIMITED.`;

/** `crema-agent claim …`: the same claim the agent makes at start with `hub.claimCode`, done once by hand. */
export async function runClaim(argv: string[]): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        code: { type: 'string' },
        hub: { type: 'string' },
        'device-id': { type: 'string' },
        'data-dir': { type: 'string' },
        model: { type: 'string', default: 'crema-one' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (cause) {
    throw new AgentError('CONFIG_INVALID', `${(cause as Error).message}\n${CLAIM_USAGE}`, { cause });
  }
  if (values.help) {
    process.stdout.write(`${CLAIM_USAGE}\n`);
    return;
  }
  const text = (name: string) => {
    const v = values[name];
    if (typeof v !== 'string' || v === '')
      throw new AgentError('CONFIG_INVALID', `--${name} is required\n${CLAIM_USAGE}`);
    return v;
  };
  const deviceId = DeviceIdSchema.safeParse(text('device-id'));
  const model = IdSchema.safeParse(text('model'));
  if (!deviceId.success || !model.success)
    throw new AgentError('CONFIG_INVALID', 'invalid --device-id or --model');
  const file = credentialPath(text('data-dir'));
  const stored = await claimAndStore({
    httpUrl: text('hub'),
    code: text('code'),
    deviceId: deviceId.data,
    model: model.data,
    file,
    now: () => Date.now(),
  });
  process.stdout.write(
    `${JSON.stringify({ event: 'claimed', deviceId: stored.deviceId, merchantId: stored.merchantId, locationId: stored.locationId, file })}\n`,
  );
}
