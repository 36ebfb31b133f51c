import type { Socket } from 'node:net';
import { Limits } from '@crema/protocol';
import type { Client } from 'aedes';

/**
 * The largest MQTT packet a client may send. Well above the largest message, so that a message somewhat over
 * its limit still arrives whole and is answered MESSAGE_TOO_LARGE by its id instead of cutting the link.
 */
export const MAX_PACKET_BYTES = Limits.packetBytes;

type Parser = { _parseLength(): boolean; packet: { length: number } };

/**
 * aedes (through mqtt-packet) would buffer a packet of any announced length, up to 256 MB. This checks the
 * remaining length as soon as the fixed header is parsed and drops the connection before the body is
 * buffered. It hooks the parser of this one connection (mqtt-packet's `_parseLength` state).
 */
export function limitPacketSize(
  client: Client,
  socket: Socket,
  onOversize: (bytes: number) => void,
  maxBytes = MAX_PACKET_BYTES,
): void {
  const parser = (client as unknown as { _parser?: Parser })._parser;
  if (!parser || typeof parser._parseLength !== 'function') return;
  const parseLength = parser._parseLength.bind(parser);
  parser._parseLength = () => {
    const complete = parseLength();
    if (complete && parser.packet.length > maxBytes) {
      onOversize(parser.packet.length);
      socket.destroy();
      return false;
    }
    return complete;
  };
}
