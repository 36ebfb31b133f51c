import { ModbusException, type Outcome, type RegisterBank } from './register-bank';

/**
 * Executes one request PDU (function code + data) for a unit and returns the response PDU, an exception PDU,
 * or `undefined` when the board stays silent. Function codes 1, 2, 3, 4, 5, 6, 15 and 16.
 */
export function handlePdu(bank: RegisterBank, unit: number, pdu: Uint8Array): Buffer | undefined {
  const fc = pdu[0] ?? 0;
  const gate = bank.gate(unit);
  if (!gate.ok) return 'silent' in gate ? undefined : exceptionPdu(fc, gate.exception);
  const b = Buffer.from(pdu);
  const u16 = (offset: number) => (b.length >= offset + 2 ? b.readUInt16BE(offset) : -1);
  const addr = u16(1);
  const qty = u16(3);
  const respond = (outcome: Outcome<Buffer>): Buffer | undefined =>
    outcome.ok ? outcome.value : 'silent' in outcome ? undefined : exceptionPdu(fc, outcome.exception);

  switch (fc) {
    case 1:
    case 2: {
      if (b.length !== 5 || qty < 1 || qty > 2000)
        return exceptionPdu(fc, ModbusException.ILLEGAL_DATA_VALUE);
      const r = bank.read(unit, fc === 1 ? 'coil' : 'discrete', addr, qty);
      return respond(r.ok ? { ok: true, value: Buffer.concat([Buffer.from([fc]), packBits(r.value)]) } : r);
    }
    case 3:
    case 4: {
      if (b.length !== 5 || qty < 1 || qty > 125) return exceptionPdu(fc, ModbusException.ILLEGAL_DATA_VALUE);
      const r = bank.read(unit, fc === 3 ? 'holding' : 'input', addr, qty);
      if (!r.ok) return respond(r);
      const out = Buffer.alloc(2 + r.value.length * 2);
      out[0] = fc;
      out[1] = r.value.length * 2;
      for (const [i, v] of r.value.entries()) out.writeUInt16BE(v & 0xffff, 2 + i * 2);
      return out;
    }
    case 5: {
      if (b.length !== 5 || (qty !== 0xff00 && qty !== 0))
        return exceptionPdu(fc, ModbusException.ILLEGAL_DATA_VALUE);
      const r = bank.writeCoil(unit, addr, qty === 0xff00);
      return respond(r.ok ? { ok: true, value: b } : r);
    }
    case 6: {
      if (b.length !== 5) return exceptionPdu(fc, ModbusException.ILLEGAL_DATA_VALUE);
      const r = bank.writeRegister(unit, addr, qty);
      return respond(r.ok ? { ok: true, value: b } : r);
    }
    case 15:
    case 16: {
      const count = b[5] ?? -1;
      const max = fc === 15 ? 1968 : 123;
      const bytes = fc === 15 ? Math.ceil(qty / 8) : qty * 2;
      if (qty < 1 || qty > max || count !== bytes || b.length !== 6 + count) {
        return exceptionPdu(fc, ModbusException.ILLEGAL_DATA_VALUE);
      }
      for (let i = 0; i < qty; i++) {
        const r =
          fc === 15
            ? bank.writeCoil(unit, addr + i, (((b[6 + (i >> 3)] ?? 0) >> (i & 7)) & 1) === 1)
            : bank.writeRegister(unit, addr + i, b.readUInt16BE(6 + i * 2));
        if (!r.ok) return respond(r);
      }
      return b.subarray(0, 5);
    }
    default:
      return exceptionPdu(fc, ModbusException.ILLEGAL_FUNCTION);
  }
}

export function exceptionPdu(fc: number, code: number): Buffer {
  return Buffer.from([(fc | 0x80) & 0xff, code]);
}

function packBits(bits: number[]): Buffer {
  const out = Buffer.alloc(1 + Math.ceil(bits.length / 8));
  out[0] = out.length - 1;
  bits.forEach((v, i) => {
    if (v) out[1 + (i >> 3)] = (out[1 + (i >> 3)] ?? 0) | (1 << (i & 7));
  });
  return out;
}

/** Bytes of a complete RTU request frame, from its first bytes, or `undefined` if the length is not yet known. */
export function requestFrameLength(buf: Uint8Array): number | undefined {
  const fc = buf[1];
  if (fc === undefined) return undefined;
  if (fc >= 1 && fc <= 6) return 8;
  if (fc === 15 || fc === 16) return buf.length >= 7 ? 9 + (buf[6] ?? 0) : undefined;
  return undefined;
}
