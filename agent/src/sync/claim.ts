import {
  Backoff,
  type ClaimAnswer,
  ClaimAnswerSchema,
  DEVICE_HTTP_PATHS,
  isErrorCode,
  normalizeClaimCode,
} from '@crema/protocol';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import type { Clock, ClockTimer } from '../time/clock';
import { readCredential, type StoredCredential, writeCredential } from './credential-file';

export interface ClaimRequestOptions {
  httpUrl: string;
  code: string;
  deviceId: string;
  model: string;
  firmwareVersion?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * Presents a claim code to the hub once (`POST /api/v1/device/claim`). Refusals come out as AgentErrors with
 * the hub's code (CLAIM_CODE_INVALID, CONFLICT, RATE_LIMITED …); no answer at all as UNAVAILABLE.
 */
export async function requestClaim(o: ClaimRequestOptions): Promise<ClaimAnswer> {
  const code = normalizeClaimCode(o.code);
  if (code === undefined)
    throw new AgentError('CONFIG_INVALID', 'the claim code is not 16 Crockford base32 symbols');
  let res: Response;
  try {
    res = await (o.fetch ?? globalThis.fetch)(new URL(DEVICE_HTTP_PATHS.claim, o.httpUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        code,
        deviceId: o.deviceId,
        model: o.model,
        ...(o.firmwareVersion === undefined ? {} : { firmwareVersion: o.firmwareVersion }),
      }),
      signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
    });
  } catch (cause) {
    throw new AgentError('UNAVAILABLE', `hub unreachable: ${(cause as Error).message}`, { cause });
  }
  const body = (await res.json().catch(() => undefined)) as { code?: unknown; detail?: unknown } | undefined;
  if (!res.ok) {
    const retryAfter = Number(res.headers.get('retry-after'));
    throw new AgentError(
      isErrorCode(body?.code) ? body.code : 'UNAVAILABLE',
      typeof body?.detail === 'string' ? body.detail : `hub answered ${res.status} to the claim`,
      {
        details: {
          status: res.status,
          ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterS: retryAfter } : {}),
        },
      },
    );
  }
  const answer = ClaimAnswerSchema.safeParse(body);
  if (!answer.success)
    throw new AgentError('VALIDATION_FAILED', 'the hub answered the claim without a credential');
  if (answer.data.deviceId !== o.deviceId)
    throw new AgentError('DEVICE_MISMATCH', `the hub registered ${answer.data.deviceId}, not ${o.deviceId}`);
  return answer.data;
}

/** Claims and stores the credential (file first) before anyone may use it; the CLI and the enrolment share it. */
export async function claimAndStore(
  o: ClaimRequestOptions & { file: string; now: () => number },
): Promise<StoredCredential> {
  const answer = await requestClaim(o);
  const stored: StoredCredential = {
    deviceId: answer.deviceId,
    credential: answer.credential,
    merchantId: answer.merchantId,
    locationId: answer.locationId,
    claimedAt: o.now(),
  };
  writeCredential(o.file, stored);
  return stored;
}

/**
 * The stored credential for this device id, if a claim stored one. One stored for another id (the config
 * changed) is not this machine's: it is ignored, and a claim code may enrol the new id.
 */
export function storedCredentialFor(file: string, deviceId: string, logger: Logger): string | undefined {
  const stored = readCredential(file);
  if (stored === undefined) return undefined;
  if (stored.deviceId === deviceId) return stored.credential;
  logger.warn(
    { stored: stored.deviceId, deviceId },
    'the stored hub credential is for another device id; ignored',
  );
  return undefined;
}

export interface EnrolmentOptions {
  request: ClaimRequestOptions;
  file: string;
  clock: Clock;
  logger: Logger;
  /** Called once, after the credential is stored. */
  onCredential: (credential: string) => void;
  /** Delays between attempts (default ×1.5 from 2 s to 10 min, with jitter: a fleet does not retry in step). */
  backoff?: { initialMs: number; maxMs: number };
}

/**
 * Claims in the background while the machine sells offline: a refused or unanswered claim is logged with its
 * code and tried again with backoff (an admin may issue a new code, or the hub comes back). Once the
 * credential is stored, `onCredential` starts the hub link.
 */
export class HubEnrolment {
  private timer: ClockTimer | undefined;
  private stopped = true;
  private readonly backoff: Backoff;
  private readonly log: Logger;

  constructor(private readonly o: EnrolmentOptions) {
    this.backoff = new Backoff({
      initialMs: o.backoff?.initialMs ?? 2_000,
      maxMs: o.backoff?.maxMs ?? 600_000,
      jitter: true,
    });
    this.log = o.logger.child({ ns: 'agent:claim' });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      void this.attempt();
    }, ms);
  }

  private async attempt(): Promise<void> {
    const { o } = this;
    try {
      const stored = await claimAndStore({ ...o.request, file: o.file, now: () => o.clock.now() });
      if (this.stopped) return;
      this.log.info(
        { deviceId: stored.deviceId, merchantId: stored.merchantId },
        'claimed: credential stored',
      );
      o.onCredential(stored.credential);
    } catch (err) {
      const e = AgentError.from(err, 'UNAVAILABLE');
      const hinted = (e.details as { retryAfterS?: number } | undefined)?.retryAfterS;
      const wait = Math.max(this.backoff.next(), (hinted ?? 0) * 1000);
      this.log.error(
        { code: e.code, retryInMs: wait },
        `claim refused: ${e.code}: ${e.message}${e.code === 'CLAIM_CODE_INVALID' ? ' (ask for a new claim code)' : ''}; selling offline meanwhile`,
      );
      this.schedule(wait);
    }
  }
}
