export * from './bootloader';
export * from './brewer';
export * from './brewer-describe';
export * from './crc16';
export * from './describe';
export * from './frame';
export * from './payment';
export * from './payment-describe';
