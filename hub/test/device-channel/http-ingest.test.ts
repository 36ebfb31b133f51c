import { type Ack, type Envelope, makeEnvelope, systemClock, ulid } from '@crema/protocol';
import { describe, expect, it } from 'vitest';
import { ingestBatch, type UplinkPort } from '../../src/device-channel/http-ingest';
import { HubError } from '../../src/errors';

/** A port that answers with the acks a test scripts, as the writer would after its commits. */
class ScriptedPort implements UplinkPort {
  readonly received: { deviceId: string; type: string }[] = [];
  private listener: ((deviceId: string, ack: Ack) => void) | undefined;
  constructor(private readonly script: (port: ScriptedPort) => void) {}
  handleUplink(envelope: Envelope): void {
    this.received.push({ deviceId: envelope.deviceId, type: envelope.type });
    setTimeout(() => this.script(this), 5);
  }
  onAck(listener: (deviceId: string, ack: Ack) => void) {
    this.listener = listener;
    return () => {
      this.listener = undefined;
    };
  }
  ack(deviceId: string, ack: Ack): void {
    this.listener?.(deviceId, ack);
  }
}

const batch = (records: unknown[]): Envelope<'batch'> =>
  makeEnvelope('batch', { id: ulid(), deviceId: 'dev-1', ts: 1 }, { records });

describe('HTTP batch ingest', () => {
  it('answers once every readable record id is acknowledged, ignoring other devices and ids', async () => {
    const a = ulid();
    const b = ulid();
    const port = new ScriptedPort((p) => {
      p.ack('dev-2', { ids: [a], rejected: [] });
      p.ack('dev-1', { ids: [a, ulid()], rejected: [] });
      p.ack('dev-1', { ids: [], rejected: [{ id: b, code: 'VALIDATION_FAILED' }] });
    });
    const ack = await ingestBatch(
      port,
      systemClock,
      batch([{ id: a }, { id: b }, { id: 'not-a-ulid' }]),
      2000,
    );
    expect(ack).toEqual({ ids: [a], rejected: [{ id: b, code: 'VALIDATION_FAILED' }] });
    expect(port.received).toEqual([{ deviceId: 'dev-1', type: 'batch' }]);
  });

  it('answers with what was committed when the deadline passes, and UNAVAILABLE when nothing was', async () => {
    const a = ulid();
    const b = ulid();
    const partial = new ScriptedPort((p) => p.ack('dev-1', { ids: [a], rejected: [] }));
    const ack = await ingestBatch(partial, systemClock, batch([{ id: a }, { id: b }]), 200);
    expect(ack).toEqual({ ids: [a], rejected: [] });

    const silent = new ScriptedPort(() => undefined);
    const failed = ingestBatch(silent, systemClock, batch([{ id: a }]), 100);
    await expect(failed).rejects.toBeInstanceOf(HubError);
    await expect(failed).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
