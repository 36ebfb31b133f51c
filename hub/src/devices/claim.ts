import type { ClaimAnswer, Clock } from '@crema/protocol';
import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/log';
import { LoginThrottle, type ThrottleSettings } from '../auth/throttle';
import type { Database } from '../db/database';
import { HubError } from '../errors';
import { TenantScope } from '../rbac/scope';
import { hashClaimCode } from './claim-codes';
import { generateDeviceSecret, hashDeviceSecret } from './credentials';
import { DeviceRepository, toDeviceView } from './repository';
import type { DeviceSessions } from './sessions';

/**
 * Claim attempts (successful or not) per client address and platform-wide, per window. A site commissioning
 * machines behind one address stays far below; anything probing for codes is slowed to nothing.
 */
export const CLAIM_LIMITS: ThrottleSettings = {
  windowMs: 10 * 60_000,
  perAccount: 30,
  perAddress: 30,
  global: 1_000,
};

export interface ClaimInput {
  /** The canonical code (ClaimCodeSchema). */
  code: string;
  deviceId: string;
  model: string;
  firmwareVersion?: string;
}

export interface ClaimDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditLog;
  deviceSessions: DeviceSessions;
  limits?: ThrottleSettings;
}

/** Every unusable code gets these same words: which of the reasons applies is not told. */
const invalid = () => new HubError('CLAIM_CODE_INVALID');

/**
 * A machine trades a one-time claim code for its own registration and credential. The code is consumed by
 * one conditional UPDATE inside the registering transaction, so two machines racing on one code end with
 * one device; a failed registration (device id taken) rolls the consumption back. Attempts are counted in
 * the database (shared by every hub process), like login failures.
 */
export class DeviceClaims {
  private readonly throttle: LoginThrottle;

  constructor(private readonly deps: ClaimDeps) {
    this.throttle = new LoginThrottle(deps.db, deps.clock, deps.limits ?? CLAIM_LIMITS, 'claim:');
  }

  async claim(input: ClaimInput, ip: string): Promise<ClaimAnswer> {
    const { db, clock } = this.deps;
    // The address is the "account": claims are anonymous, the address is all there is to count by.
    const keys = { account: ip, address: ip };
    const wait = await this.throttle.retryAfterMs(keys);
    if (wait > 0) {
      throw new HubError('RATE_LIMITED', 'too many claim attempts; try again later', {
        details: { retryAfterSeconds: Math.ceil(wait / 1000) },
      });
    }
    await this.throttle.fail(keys);

    const codeHash = hashClaimCode(input.code);
    const found = await db
      .selectFrom('claim_codes')
      .selectAll()
      .where('code_hash', '=', codeHash)
      .executeTakeFirst();
    // Checked here first so that a wrong code costs no key derivation; checked again, atomically, below.
    const now = clock.now();
    const usable =
      found !== undefined &&
      found.claimed_at === null &&
      found.revoked_at === null &&
      Number(found.expires_at) > now &&
      (found.expected_device_id === null || found.expected_device_id === input.deviceId) &&
      (found.expected_model === null || found.expected_model === input.model);
    if (!found || !usable) throw invalid();

    const secret = generateDeviceSecret();
    const credentialHash = await hashDeviceSecret(secret);
    const scope = new TenantScope({
      userId: `claim:${found.id}`,
      role: 'merchant_admin',
      merchantId: found.merchant_id,
    });
    const device = await db.transaction().execute(async (trx) => {
      const at = clock.now();
      const consumed = await trx
        .updateTable('claim_codes')
        .set({ claimed_at: at, claimed_device_id: input.deviceId, claimed_ip: ip })
        .where('id', '=', found.id)
        .where('claimed_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', at)
        .executeTakeFirst();
      if (Number(consumed.numUpdatedRows) !== 1) throw invalid();
      const created = await new DeviceRepository(trx, scope, clock).create(trx, {
        id: input.deviceId,
        merchantId: found.merchant_id,
        locationId: found.location_id,
        model: input.model,
        name: null,
        credentialHash,
      });
      await this.deps.audit.record(trx, {
        actor: null,
        ip,
        action: 'device.claim',
        targetType: 'device',
        targetId: created.id,
        merchantId: found.merchant_id,
        after: {
          ...toDeviceView(created),
          claimCodeId: found.id,
          ...(input.firmwareVersion === undefined ? {} : { firmwareVersion: input.firmwareVersion }),
        },
      });
      // An external broker holding device credentials gets it before the commit (rolled back if it refuses).
      await this.deps.deviceSessions.credentialChanged({ deviceId: created.id, kind: 'set', secret });
      return created;
    });
    return {
      deviceId: device.id,
      credential: secret,
      merchantId: device.merchant_id,
      locationId: device.location_id,
    };
  }
}
