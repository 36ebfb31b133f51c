/**
 * The error-code catalogue shared by agent, hub and simulator. Codes are stable: clients match on them.
 * `status` is the HTTP status the hub answers with; devices ignore it.
 */
export const ErrorCodes = {
  // Messages and framing
  VALIDATION_FAILED: { status: 400, message: 'The input does not match its schema' },
  MALFORMED_JSON: { status: 400, message: 'The payload is not valid JSON' },
  MESSAGE_TOO_LARGE: { status: 413, message: 'The message exceeds its size limit' },
  UNSUPPORTED_VERSION: { status: 400, message: 'The protocol major version is not supported' },
  UNKNOWN_MESSAGE_TYPE: { status: 400, message: 'The message type is not known to this receiver' },
  TOPIC_INVALID: { status: 400, message: 'The MQTT topic is not a Crema topic' },
  TOPIC_FORBIDDEN: { status: 403, message: 'The topic is outside the device prefix' },
  DEVICE_MISMATCH: { status: 400, message: 'The envelope device id does not match the topic' },
  LINE_BAD_CHECKSUM: { status: 400, message: 'The line checksum does not match' },
  LINE_TRUNCATED: { status: 400, message: 'The line is incomplete' },
  LINE_TOO_LONG: { status: 400, message: 'The line exceeds the maximum length' },
  LINE_UNKNOWN_VERB: { status: 400, message: 'The line verb is not part of the protocol' },
  LINE_MALFORMED: { status: 400, message: 'The line is not framed correctly' },
  // Admin API
  AUTH_REQUIRED: { status: 401, message: 'Authentication is required' },
  AUTH_INVALID_CREDENTIALS: { status: 401, message: 'Invalid email or password' },
  AUTH_TOKEN_INVALID: { status: 401, message: 'The token is invalid or expired' },
  AUTH_THROTTLED: { status: 429, message: 'Too many attempts; try again later' },
  API_KEY_INVALID: { status: 401, message: 'The API key is unknown, revoked or expired' },
  API_KEY_IP_FORBIDDEN: { status: 403, message: 'The API key may not be used from this address' },
  FORBIDDEN: { status: 403, message: 'The caller lacks the permission for this action' },
  NOT_FOUND: { status: 404, message: 'The resource does not exist' },
  CONFLICT: { status: 409, message: 'The resource already exists or changed concurrently' },
  WEBHOOK_TARGET_FORBIDDEN: { status: 422, message: 'The webhook URL points into a private network' },
  INVALID_TRANSITION: { status: 409, message: 'The state transition is not allowed' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body exceeds its size limit' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body has an unsupported content type' },
  RATE_LIMITED: { status: 429, message: 'Too many requests' },
  REFUND_EXCEEDS_CAPTURE: { status: 422, message: 'The refund exceeds the captured amount' },
  CSV_INVALID: { status: 422, message: 'The CSV file has invalid rows' },
  ASSIGNEE_INVALID: {
    status: 422,
    message: 'The assignee is not a user of the merchant who may handle work orders',
  },
  ATTACHMENT_TYPE_UNSUPPORTED: {
    status: 415,
    message: 'The file is not a JPEG, PNG, WebP image or a PDF document (judged by its content)',
  },
  ATTACHMENT_LIMIT_REACHED: { status: 409, message: 'The work order has as many attachments as it may hold' },
  // Devices and commands
  DEVICE_UNKNOWN: { status: 404, message: 'The device is not registered' },
  DEVICE_REVOKED: { status: 403, message: 'The device credential was revoked' },
  CLAIM_CODE_INVALID: {
    status: 403,
    message: 'The claim code is not valid (unknown, expired, revoked, already used or not for this machine)',
  },
  COMMAND_EXPIRED: { status: 410, message: 'The command passed its time-to-live' },
  COMMAND_DUPLICATE: { status: 409, message: 'The command was already received' },
  COMMAND_FAILED: { status: 500, message: 'The command failed on the device' },
  // Machine and sales
  SALES_LOCKED: { status: 423, message: 'Sales are locked on this machine' },
  MAINTENANCE_OVERDUE: {
    status: 423,
    message: 'Sales are locked until the overdue rinse or descale is done',
  },
  RECIPE_UNAVAILABLE: { status: 409, message: 'The drink is not available' },
  MATERIAL_INSUFFICIENT: { status: 409, message: 'Not enough material for this drink' },
  BOILER_NOT_READY: { status: 409, message: 'The boiler is not at brewing temperature' },
  NO_CUP: { status: 409, message: 'No cup is in place' },
  DOOR_OPEN: { status: 409, message: 'The service door is open' },
  FAULT_ACTIVE: { status: 409, message: 'A blocking fault is active' },
  MACHINE_BUSY: { status: 409, message: 'The machine is busy with another order' },
  BREW_FAILED: { status: 500, message: 'The drink could not be made' },
  BREWER_TIMEOUT: { status: 504, message: 'The brewer did not answer in time' },
  BREWER_DISCONNECTED: { status: 503, message: 'The brewer link is down' },
  BREWER_REJECTED: { status: 502, message: 'The brewer refused the request' },
  MODBUS_TIMEOUT: { status: 504, message: 'The auxiliary board did not answer in time' },
  MODBUS_UNAVAILABLE: { status: 503, message: 'The auxiliary board circuit is open' },
  PAYMENT_DECLINED: { status: 402, message: 'The payment was declined' },
  PAYMENT_TIMEOUT: { status: 504, message: 'The payment terminal did not answer in time' },
  PAYMENT_FAILED: { status: 502, message: 'The payment terminal reported an error' },
  STORAGE_FULL: { status: 507, message: 'The local store is full' },
  STORAGE_READ_ONLY: { status: 503, message: 'The local store is read-only' },
  LEDGER_DAMAGED: { status: 503, message: 'The local ledger is damaged; sales are refused' },
  LEDGER_MISSING: {
    status: 503,
    message: 'The ledger of this known machine is missing or empty; start it with an explicit ledger reset',
  },
  HOST_NOT_ALLOWED: { status: 421, message: 'The Host header is not on the allow-list' },
  CONFIG_INVALID: { status: 400, message: 'The configuration is invalid' },
  // Bundles and firmware
  BUNDLE_SIGNATURE_INVALID: { status: 422, message: 'The bundle signature is missing or invalid' },
  BUNDLE_HASH_MISMATCH: { status: 422, message: 'The bundle hash or size does not match its manifest' },
  BUNDLE_DOWNGRADE: { status: 409, message: 'The bundle is older than the installed version' },
  BUNDLE_MODEL_MISMATCH: { status: 422, message: 'The bundle is for another machine model' },
  HEALTH_CHECK_FAILED: { status: 500, message: 'The new version failed its health check' },
  // Signed update artifacts (firmware and agent)
  UPDATE_SIGNATURE_INVALID: { status: 422, message: 'The update signature is missing or invalid' },
  UPDATE_KEY_UNKNOWN: { status: 422, message: 'The update is signed by a key the device does not trust' },
  UPDATE_KEY_REVOKED: { status: 422, message: 'The update is signed by a revoked key' },
  UPDATE_HASH_MISMATCH: { status: 422, message: 'The artifact sha256 does not match its manifest' },
  UPDATE_SIZE_MISMATCH: { status: 422, message: 'The artifact size does not match its manifest' },
  UPDATE_MODEL_MISMATCH: { status: 422, message: 'The artifact is not for this machine model' },
  UPDATE_KIND_MISMATCH: { status: 422, message: 'The artifact is of another kind than expected' },
  UPDATE_DOWNGRADE: {
    status: 409,
    message: 'The artifact is not newer than the installed version or is below the anti-rollback floor',
  },
  UPDATE_FLOOR: { status: 409, message: 'The installed version is older than the artifact may replace' },
  UPDATE_IMAGE_INVALID: { status: 422, message: 'The device refused the written image' },
  UPDATE_LINK_LOST: { status: 503, message: 'The link to the device dropped during the update' },
  // Rollout campaigns (hub)
  ROLLOUT_NO_TARGET: { status: 422, message: 'No machine of the target can take this artifact' },
  ROLLOUT_DEVICE_BUSY: { status: 409, message: 'The machine is in another unfinished campaign of this kind' },
  ROLLOUT_FAILURE_THRESHOLD: {
    status: 409,
    message: 'The campaign halted: too many machines failed to update',
  },
  ROLLOUT_SIGNAL_FAILED_VENDS: {
    status: 409,
    message: 'The campaign halted: updated machines fail more vends than the others',
  },
  ROLLOUT_SIGNAL_REFUNDS: {
    status: 409,
    message: 'The campaign halted: updated machines refund more orders',
  },
  ROLLOUT_SIGNAL_BREW_TIME: { status: 409, message: 'The campaign halted: updated machines brew slower' },
  ARTIFACT_HASH_MISMATCH: { status: 422, message: 'The uploaded bytes do not have the declared sha256' },
  ARTIFACT_IN_USE: { status: 409, message: 'An unfinished rollout uses the artifact' },
  RANGE_NOT_SATISFIABLE: { status: 416, message: 'The requested byte range is outside the file' },
  SIGNING_KEY_CURRENT: {
    status: 409,
    message: 'The current signing key cannot be revoked on its own; rotate it (the rotation revokes it)',
  },
  UPDATE_DOWNLOAD_FAILED: { status: 503, message: 'The artifact could not be downloaded from the hub' },
  UPDATE_BOOT_FAILED: {
    status: 500,
    message: 'The new version did not start; the previous one runs again',
  },
  UPDATE_IN_PROGRESS: { status: 409, message: 'Another update is in progress on this machine' },
  // Anything else
  INTERNAL: { status: 500, message: 'Internal error' },
  UNAVAILABLE: { status: 503, message: 'The service is not ready' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

export const ERROR_CODES = Object.keys(ErrorCodes) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ErrorCodes, value);
}

export type CodedErrorOptions = { cause?: unknown; details?: unknown };

/**
 * The base of every package's coded error (ProtocolError, AgentError, HubError, SimError): one constructor
 * shape everywhere, the code from the catalogue, and the status an HTTP surface answers with.
 */
export class CodedError extends Error {
  override readonly name: string = 'CodedError';
  readonly details: unknown;
  constructor(
    readonly code: ErrorCode,
    message: string = ErrorCodes[code].message,
    options: CodedErrorOptions = {},
  ) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.details = options.details;
  }

  get status(): number {
    return ErrorCodes[this.code].status;
  }
}

/** The catalogue code an error carries, if it carries one (any package's coded error, or a look-alike). */
export function errorCodeOf(err: unknown): ErrorCode | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return isErrorCode(code) ? code : undefined;
}

/** The protocol package's one coded error. */
export class ProtocolError extends CodedError {
  override readonly name = 'ProtocolError';
}

/** Result of decoding untrusted input: never throws. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

export const decoded = <T>(value: T): Decoded<T> => ({ ok: true, value });
export const rejected = <T = never>(code: ErrorCode, message?: string, details?: unknown): Decoded<T> => ({
  ok: false,
  error: new ProtocolError(code, message, { details }),
});
