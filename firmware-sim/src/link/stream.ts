import type { Socket } from 'node:net';
import type { SerialPort } from 'serialport';

/** Raw bytes to and from whoever is on the other end: a pseudo-terminal or a TCP connection. */
export interface ByteStream {
  readonly description: string;
  write(data: string | Uint8Array): void;
  onData(listener: (chunk: Buffer) => void): void;
  onClose(listener: () => void): void;
  close(): void;
}

export function socketStream(socket: Socket): ByteStream {
  return {
    description: `tcp ${socket.remoteAddress}:${socket.remotePort}`,
    write: (data) => {
      if (!socket.destroyed) socket.write(data);
    },
    onData: (l) => socket.on('data', l),
    onClose: (l) => socket.once('close', l),
    close: () => socket.destroy(),
  };
}

export function serialStream(port: SerialPort): ByteStream {
  return {
    description: `pty ${port.path}`,
    write: (data) => {
      if (port.isOpen) port.write(Buffer.from(data));
    },
    onData: (l) => port.on('data', l),
    onClose: (l) => port.once('close', l),
    close: () => {
      if (port.isOpen) port.close();
    },
  };
}
