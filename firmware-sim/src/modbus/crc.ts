/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF); sent low byte first. Check value of "123456789": 0x4B37. */
export function crc16Modbus(data: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of data) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}
