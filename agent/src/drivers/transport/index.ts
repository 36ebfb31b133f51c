import type { Transport } from '../brewer/types';
import type { LineDeviceConfig } from '../config';
import { SerialTransport } from './serial';
import { TcpTransport } from './tcp';

export { FakeTransport } from './fake';
export { SerialTransport } from './serial';
export { TcpTransport } from './tcp';

export function createTransport(config: LineDeviceConfig): Transport {
  switch (config.transport) {
    case 'serial':
      return new SerialTransport(config.path, config.baudRate);
    case 'tcp':
      return new TcpTransport(config.host, config.port);
  }
}
