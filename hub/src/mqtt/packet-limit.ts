import type { Socket } from 'node:net';
import { Limits } from '@crema/protocol';
import type { Client } from 'aedes';

/** The largest MQTT packet the broker buffers: the largest message plus room for the topic and header. */
export const MAX_PACKET_BYTES = Limits.largeMessageBytes + 70 * 1024;

/** How much of a skipped PUBLISH is kept: its topic, packet id and the start of its payload (to find the id). */
export const KEPT_HEAD_BYTES = 16 * 1024;

export interface OversizeHandlers {
  /** A QoS 0/1 PUBLISH over the limit was skipped unread (and PUBACKed); `head` is the start of its payload. */
  skipped(publish: { topic: string; head: Buffer; bytes: number }): void;
  /** Any other packet over the limit: the connection was closed. */
  closed(bytes: number): void;
}

type Parser = {
  _parseLength(): boolean;
  _resetState(): void;
  parse(buf: Buffer): number;
  packet: { length: number; cmd?: string; qos: number };
  _list: { length: number; slice(): Buffer };
};

type Skip = { remaining: number; bytes: number; qos: number; head: Buffer[]; kept: number };

/**
 * aedes (through mqtt-packet) would buffer a packet of any announced length, up to 256 MB. This checks the
 * remaining length as soon as the fixed header is parsed. An oversized PUBLISH (QoS 0 or 1) is then skipped:
 * its bytes are dropped as they arrive, keeping only the first KEPT_HEAD_BYTES, and it is acknowledged at the
 * MQTT level, so a persistent session does not resend it after a reconnect and the hub can still answer it
 * by id. Any other oversized packet closes the connection. It hooks the parser of this one connection
 * (mqtt-packet's `_parseLength` state and `parse`).
 */
export function limitPacketSize(
  client: Client,
  socket: Socket,
  handlers: OversizeHandlers,
  maxBytes = MAX_PACKET_BYTES,
): void {
  const parser = (client as unknown as { _parser?: Parser })._parser;
  if (!parser || typeof parser._parseLength !== 'function' || typeof parser.parse !== 'function') return;
  const parseLength = parser._parseLength.bind(parser);
  const parse = parser.parse.bind(parser);
  let skip: Skip | undefined;

  const close = (bytes: number) => {
    skip = undefined;
    handlers.closed(bytes);
    socket.destroy();
  };

  /** Takes the bytes of the packet being skipped out of `buf`; returns what follows it. */
  const absorb = (buf: Buffer): Buffer => {
    if (!skip) return buf;
    const take = Math.min(buf.length, skip.remaining);
    if (skip.kept < KEPT_HEAD_BYTES) {
      const part = buf.subarray(0, Math.min(take, KEPT_HEAD_BYTES - skip.kept));
      skip.head.push(Buffer.from(part)); // a copy: `buf` itself is released
      skip.kept += part.length;
    }
    skip.remaining -= take;
    if (skip.remaining === 0) finish(skip);
    return buf.subarray(take);
  };

  const finish = (done: Skip) => {
    skip = undefined;
    const head = Buffer.concat(done.head);
    const topicLength = head.length >= 2 ? head.readUInt16BE(0) : Number.POSITIVE_INFINITY;
    const payloadAt = 2 + topicLength + (done.qos > 0 ? 2 : 0);
    if (payloadAt > head.length) return close(done.bytes); // a topic longer than what was kept
    const topic = head.subarray(2, 2 + topicLength).toString('utf8');
    if (done.qos === 1) {
      const packetId = head.readUInt16BE(2 + topicLength);
      socket.write(Buffer.from([0x40, 0x02, packetId >> 8, packetId & 0xff])); // PUBACK
    }
    handlers.skipped({ topic, head: head.subarray(payloadAt), bytes: done.bytes });
  };

  parser._parseLength = () => {
    const complete = parseLength();
    if (!complete || parser.packet.length <= maxBytes) return complete;
    const { length, cmd, qos } = parser.packet;
    if (cmd !== 'publish' || qos > 1) {
      close(length);
      return false;
    }
    // What is buffered already belongs to this packet (and maybe the next ones): skip from there.
    const buffered = parser._list.slice();
    parser._resetState();
    skip = { remaining: length, bytes: length, qos, head: [], kept: 0 };
    const rest = absorb(buffered);
    if (rest.length > 0) queueMicrotask(() => parser.parse(rest));
    return false;
  };

  parser.parse = (buf: Buffer) => {
    const rest = absorb(buf);
    return rest.length > 0 && !socket.destroyed ? parse(rest) : 0;
  };
}
