import { type Dialect, decodeFrame, encodeFrame, type Frame } from '@crema/protocol';
import type { FakeTransport } from '../../src/drivers/transport/fake';

export type Answer = { verb: 'OK' | 'ERR'; args?: Record<string, string | number> } | 'silent';

/**
 * Scripts a line device on a FakeTransport: each request the agent writes is decoded and answered by
 * `handler` (synchronously, or later through `answer`).
 */
export function scriptDevice(
  transport: FakeTransport,
  dialect: Dialect,
  handler: (req: Frame, answer: (a: Answer) => void) => Answer | undefined,
): { requests: Frame[]; event: (verb: string, args?: Record<string, string | number>) => void } {
  const requests: Frame[] = [];
  let eventId = 0;
  const send = (req: Frame, a: Answer) => {
    if (a === 'silent') return;
    transport.emit(encodeFrame({ kind: 'reply', id: req.id, verb: a.verb, args: strings(a.args) }));
  };
  transport.reply = (line) => {
    const decoded = decodeFrame(line, dialect);
    if (!decoded.ok) throw decoded.error;
    requests.push(decoded.value);
    const a = handler(decoded.value, (later) => send(decoded.value, later));
    if (a) send(decoded.value, a);
  };
  return {
    requests,
    event: (verb, args) =>
      transport.emit(encodeFrame({ kind: 'event', id: ++eventId, verb, args: strings(args) })),
  };
}

function strings(args: Record<string, string | number> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, String(v)]));
}
