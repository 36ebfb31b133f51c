/**
 * The DEX/UCS G85 integrity check: CRC-16 with polynomial x¹⁶+x¹⁵+x²+1 (0x8005, processed least significant
 * bit first as 0xA001), initial value 0, no final XOR ("CRC-16/ARC"), over every byte from the `S` of ST up to
 * and including the line end before G85. Written as four upper-case hex digits, most significant byte first
 * (EVA-DTS 6; version 5 wrote the low byte first).
 */
export function dexCrc16(text: string): string {
  let crc = 0;
  for (const byte of Buffer.from(text, 'latin1')) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}
