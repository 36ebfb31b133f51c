import { BootloaderSlotsSchema, BrewerDialect } from '@crema/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, type SimulatorOptions, startSimulator, TestImages } from '../src/index';
import { crcHex, flashRange, install, sha256Hex } from './helpers/flash';
import { LineClient } from './helpers/line-client';

let sim: Simulator | undefined;
let client: LineClient | undefined;

async function boot(options: SimulatorOptions = {}): Promise<LineClient> {
  sim = await startSimulator({
    timeScale: 20,
    seed: 3,
    initialTempC: 92,
    bootTiming: { bootMs: 400, watchdogMs: 1000 },
    maxTrialBoots: 2,
    ...options,
  });
  client = await LineClient.serial(sim.endpoints.serial.pty!, BrewerDialect);
  return client;
}

afterEach(async () => {
  await client?.close();
  await sim?.stop();
  client = undefined;
  sim = undefined;
});

const slots = async (c: LineClient) => BootloaderSlotsSchema.parse((await c.request('SLOTS')).args);
const readyAfter = (c: LineClient, n: number) =>
  c.waitFor((l) => l.frame?.kind === 'event' && l.frame.verb === 'READY' && c.lines.indexOf(l) >= n, 8000);

describe('brewer bootloader over a real pty', () => {
  it('flashes an image into the other slot, boots it on trial and keeps it once confirmed', async () => {
    const c = await boot();
    const image = TestImages.good('cm-1', '1.5.0');
    expect(await slots(c)).toMatchObject({ mode: 'app', active: 'a', a_fw: '1.4.2', b_state: 'empty' });
    const mark = c.lines.length;
    await install(c, 'b', image);
    expect((await readyAfter(c, mark)).frame?.args).toMatchObject({ fw: '1.5.0', model: 'cm-1' });
    expect((await c.request('INFO')).args.fw).toBe('1.5.0');
    expect(await slots(c)).toMatchObject({ active: 'b', pending: 'b', boots: 1, b_state: 'verified' });
    expect((await c.request('CONFIRM')).verb).toBe('OK');
    expect(await slots(c)).toMatchObject({
      active: 'b',
      pending: '',
      b_state: 'confirmed',
      b_len: image.length,
    });
    // Confirmed for good: any number of later boots keep it.
    for (let i = 0; i < 3; i++) {
      const before = c.lines.length;
      await c.request('REBOOT');
      expect((await readyAfter(c, before)).frame?.args.fw).toBe('1.5.0');
    }
  });

  it('refuses a chunk with a bad CRC, a gap, the running slot, a wrong hash and app verbs while in the bootloader', async () => {
    const c = await boot();
    const image = TestImages.good('cm-1', '1.5.0');
    expect(
      (await c.request('FLASH', { slot: 'b', off: 0, data: 'abcd', crc: crcHex(Uint8Array.of(0xab, 0xcd)) }))
        .args.code,
    ).toBe('WRONG_MODE');
    await c.request('BOOTLOADER');
    expect((await c.request('GRIND', { g: 10 })).args.code).toBe('WRONG_MODE');
    await flashRange(c, 'b', image, 0, 96);
    const chunk = image.subarray(96, 144);
    const bad = await c.request('FLASH', {
      slot: 'b',
      off: 96,
      data: Buffer.from(chunk).toString('hex'),
      crc: 'FFFF',
    });
    expect(bad.args.code).toBe('BAD_CRC');
    expect((await slots(c)).b_len).toBe(96);
    const gap = await c.request('FLASH', {
      slot: 'b',
      off: 144,
      data: Buffer.from(chunk).toString('hex'),
      crc: crcHex(chunk),
    });
    expect(gap.args.code).toBe('BAD_OFFSET');
    const own = await c.request('FLASH', {
      slot: 'a',
      off: 0,
      data: Buffer.from(chunk).toString('hex'),
      crc: crcHex(chunk),
    });
    expect(own.args.code).toBe('SLOT_ACTIVE');
    await flashRange(c, 'b', image, 96);
    const flipped = image.slice();
    flipped[2000] = (flipped[2000] ?? 0) ^ 1;
    const wrong = await c.request('VERIFY', { slot: 'b', size: image.length, sha256: sha256Hex(flipped) });
    expect(wrong.args.code).toBe('BAD_IMAGE');
    expect((await c.request('ACTIVATE', { slot: 'b' })).args.code).toBe('BAD_IMAGE');
    expect(await slots(c)).toMatchObject({ b_state: 'bad', pending: '' });
  });

  it('falls back to the old slot when the new image is not confirmed within max_boots boots', async () => {
    const c = await boot();
    let mark = c.lines.length;
    await install(c, 'b', TestImages.good('cm-1', '1.5.0'));
    for (const expected of ['1.5.0', '1.5.0', '1.4.2']) {
      expect((await readyAfter(c, mark)).frame?.args.fw).toBe(expected);
      mark = c.lines.length;
      if (expected !== '1.4.2') await c.request('REBOOT');
    }
    expect(await slots(c)).toMatchObject({ active: 'a', pending: '', fell_back: true, b_state: 'bad' });
    expect((await c.request('INFO')).args.fw).toBe('1.4.2');
  });

  it('an image that crashes at boot never answers; the watchdog and the boot counter bring the old one back', async () => {
    const c = await boot();
    const mark = c.lines.length;
    await install(c, 'b', TestImages.crashAtBoot('cm-1', '1.5.0'));
    await expect(c.request('PING', {}, 600)).rejects.toThrow(/no matching line/);
    expect((await readyAfter(c, mark)).frame?.args.fw).toBe('1.4.2');
    expect(await slots(c)).toMatchObject({ active: 'a', fell_back: true, b_state: 'bad' });
  });

  it('an image with a bad heater loop boots, but its boiler never reaches brewing temperature', async () => {
    const c = await boot({ initialTempC: 20, timeScale: 100 });
    const mark = c.lines.length;
    await install(c, 'b', TestImages.coldBoiler('cm-1', '1.5.0'));
    expect((await readyAfter(c, mark)).frame?.args.fw).toBe('1.5.0');
    const t0 = sim!.model.clock.now();
    while (sim!.model.clock.now() - t0 < 300_000) await new Promise((r) => setTimeout(r, 100));
    const status = (await c.request('STATUS')).args;
    expect(Number(status.temp_c)).toBeLessThan(60);
    expect(Number(status.temp_c)).toBeGreaterThan(30);
  });

  it('an image that answers INFO with another version than its header', async () => {
    const c = await boot();
    const mark = c.lines.length;
    await install(c, 'b', TestImages.wrongVersion('cm-1', '1.5.0', '1.3.0'));
    expect((await readyAfter(c, mark)).frame?.args.fw).toBe('1.3.0');
    expect((await c.request('INFO')).args.fw).toBe('1.3.0');
    expect((await slots(c)).b_fw).toBe('1.5.0');
  });

  it('a slow flash takes its time per chunk and still completes', async () => {
    const c = await boot({ timeScale: 1, bootTiming: { flashMsPerChunk: 150 } });
    const image = TestImages.good('cm-1', '1.5.0');
    await c.request('BOOTLOADER');
    const started = Date.now();
    await flashRange(c, 'b', image, 0, 48 * 4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 150 - 20);
    expect((await slots(c)).b_len).toBe(48 * 4);
  });

  it('after a link drop mid-flash the transfer resumes where SLOTS says it stopped', async () => {
    const c = await boot();
    const image = TestImages.good('cm-1', '1.5.0');
    await c.request('BOOTLOADER');
    await flashRange(c, 'b', image, 0, 48 * 20);
    sim!.faults.inject('brewer_link_down');
    await expect(c.request('SLOTS', {}, 800)).rejects.toThrow();
    await c.close();
    sim!.faults.clear('brewer_link_down');
    let again: LineClient | undefined;
    for (let i = 0; i < 40 && !again; i++) {
      again = await LineClient.serial(sim!.endpoints.serial.pty!, BrewerDialect).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    client = again;
    const resumed = await slots(again!);
    expect(resumed).toMatchObject({ mode: 'boot', b_state: 'writing', b_len: 48 * 20 });
    await flashRange(again!, 'b', image, resumed.b_len);
    const v = await again!.request('VERIFY', { slot: 'b', size: image.length, sha256: sha256Hex(image) });
    expect(v.verb).toBe('OK');
  });

  it('is the same bootloader on TCP: a flash over TCP boots the image the pty client sees', async () => {
    const c = await boot();
    const tcp = await LineClient.tcp(sim!.endpoints.serial.tcp, BrewerDialect);
    try {
      const mark = c.lines.length;
      await install(tcp, 'b', TestImages.good('cm-1', '1.5.0'));
      expect((await readyAfter(c, mark)).frame?.args.fw).toBe('1.5.0');
      expect(await slots(c)).toMatchObject({ active: 'b', pending: 'b' });
    } finally {
      await tcp.close();
    }
  });
});
