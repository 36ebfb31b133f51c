export * from './brewer';
export * from './crc16';
export * from './frame';
export * from './payment';
