import { describe, expect, it } from 'vitest';
import { dexCrc16 } from './crc';

describe('DEX G85 CRC', () => {
  it('matches the catalogue check value of CRC-16/ARC', () => {
    expect(dexCrc16('123456789')).toBe('BB3D');
  });

  it('reproduces the G85 a vending controller wrote over ST … the line before G85', () => {
    // A configuration file written by a telemetry board's DEX generator (G85*4DED), CRLF line ends.
    const lines = [
      'ST*001*0001',
      'IC1******0',
      'IC4*1*1643**1*50000*0*0*2*1*0*1*0*0*0*0*0*1',
      'AC2**internet*gdata*gdata*1*0*0*1*',
      'FC1*0*1**0**0',
      'FC2**0**',
      'FC3*',
      'FC4*',
      'FC5*',
      ...[1, 2, 3, 4, 5].flatMap((n) => {
        const price = n === 2 || n === 5 ? 270 : 250;
        const sel = `0${n}`;
        const tail = n === 4 ? 2 : n === 5 ? 1 : 3;
        return [
          `PC1*${sel}*${price}*0`,
          `PC9*${sel}*${n - 1}*${tail}*`,
          `PC7*${sel}*CA*0*${price}`,
          `PC7*${sel}*DA*1*100`,
        ];
      }),
      'MC5*0*INTERNET*1',
      'MC5*1*EXT1*0',
      'MC5*2*EXT2*0',
      'MC5*3*USB1*0',
      'MC5*4*QRTYPE*0',
      'MC5*5*ETH1MAC*2089846A9601',
      'MC5*6*ETH1ADDR*192.168.1.200',
      'MC5*7*ETH1MASK*255.255.255.0',
      'MC5*8*ETH1GW*192.168.1.1',
    ];
    expect(dexCrc16(lines.map((l) => `${l}\r\n`).join(''))).toBe('4DED');
  });
});
