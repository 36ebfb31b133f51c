import {
  type Ack,
  AckSchema,
  type Command,
  CommandPollSchema,
  DEVICE_HTTP_PATHS,
  type Envelope,
  encodeEnvelope,
  isErrorCode,
  makeEnvelope,
  type RecordEnvelope,
} from '@crema/protocol';
import { AgentError } from '../errors';
import type { Clock } from '../time/clock';

export type HttpClientOptions = {
  /** The hub's base URL, e.g. `http://hub.example.com:8080`. */
  baseUrl: string;
  deviceId: string;
  credential: string;
  clock: Clock;
  ulid: () => string;
  timeoutMs: number;
  fetch?: typeof fetch;
  /** The hub's clock from each answer's `Date` header (whole seconds, so never ahead of the hub). */
  onHubTime?: (hubTs: number) => void;
};

/**
 * The hub's device endpoints (docs/protocol.md §8), authenticated with HTTP Basic (device id, credential).
 * Failures come out as AgentErrors carrying the hub's problem code when it sent one, UNAVAILABLE otherwise.
 */
export class DeviceHttpClient {
  private readonly authorization: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly o: HttpClientOptions) {
    this.authorization = `Basic ${Buffer.from(`${o.deviceId}:${o.credential}`).toString('base64')}`;
    this.fetch = o.fetch ?? globalThis.fetch;
  }

  /** POSTs the records as one `batch` envelope; the answer is the hub's ack for them. */
  async postRecords(records: RecordEnvelope[]): Promise<Ack> {
    const batch = makeEnvelope(
      'batch',
      { id: this.o.ulid(), deviceId: this.o.deviceId, ts: this.o.clock.now() },
      { records },
    );
    const body = await this.request('POST', DEVICE_HTTP_PATHS.records, encodeEnvelope(batch as Envelope));
    const ack = AckSchema.safeParse(body);
    if (!ack.success) throw new AgentError('VALIDATION_FAILED', 'the hub answered records with no valid ack');
    return ack.data;
  }

  /** A non-record message (birth, heartbeat, command_progress, death). */
  async postMessage(envelope: Envelope): Promise<void> {
    await this.request('POST', DEVICE_HTTP_PATHS.messages, encodeEnvelope(envelope));
  }

  async pollCommands(): Promise<Command[]> {
    const body = await this.request('GET', DEVICE_HTTP_PATHS.commands);
    const poll = CommandPollSchema.safeParse(body);
    if (!poll.success)
      throw new AgentError('VALIDATION_FAILED', 'the hub answered the poll with no command list');
    return poll.data.commands;
  }

  private async request(method: 'GET' | 'POST', path: string, body?: string): Promise<unknown> {
    const abort = new AbortController();
    const timer = this.o.clock.setTimeout(
      () => abort.abort(new AgentError('UNAVAILABLE', `hub did not answer within ${this.o.timeoutMs} ms`)),
      this.o.timeoutMs,
    );
    try {
      const headers: Record<string, string> = {
        authorization: this.authorization,
        accept: 'application/json',
      };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await this.fetch(new URL(path, this.o.baseUrl), {
        method,
        headers,
        body,
        signal: abort.signal,
      });
      const date = Date.parse(res.headers.get('date') ?? '');
      if (Number.isFinite(date)) this.o.onHubTime?.(date);
      const text = await res.text();
      const json = parseJson(text);
      if (!res.ok) {
        const code = (json as { code?: unknown } | undefined)?.code;
        throw new AgentError(
          isErrorCode(code) ? code : 'UNAVAILABLE',
          `hub answered ${res.status} to ${method} ${path}`,
          {
            details: { status: res.status },
          },
        );
      }
      return json;
    } catch (err) {
      if (err instanceof AgentError) throw err;
      throw new AgentError('UNAVAILABLE', `hub unreachable: ${(err as Error)?.message ?? err}`, {
        cause: err,
      });
    } finally {
      this.o.clock.clearTimeout(timer);
    }
  }
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
