import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@crema/protocol/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemdNotifier } from './systemd';

/** The notifier runs a real program (a stand-in for systemd-notify that records its arguments). */
describe('systemdNotifier', () => {
  let dir: string;
  let command: string;
  const calls = () => readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crema-notify-'));
    command = join(dir, 'notify.sh');
    writeFileSync(command, `#!/bin/sh\necho "$NOTIFY_SOCKET $*" >> ${join(dir, 'calls')}\n`);
    chmodSync(command, 0o755);
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('sends states through the notify program with the socket systemd gave, and reads the watchdog period', async () => {
    const env = {
      NOTIFY_SOCKET: '/run/systemd/notify',
      WATCHDOG_USEC: '30000000',
      WATCHDOG_PID: `${process.pid}`,
    };
    const notifier = systemdNotifier(env, (err) => expect.fail(err.message), command);
    expect(notifier.watchdogMs).toBe(30_000);
    notifier.notify('READY=1', 'STATUS=agent 1.0.0 (slot a)');
    await waitFor(() => {
      try {
        return calls().length === 1;
      } catch {
        return false;
      }
    });
    expect(calls()).toEqual(['/run/systemd/notify READY=1 STATUS=agent 1.0.0 (slot a)']);
  });

  it('does nothing without NOTIFY_SOCKET, and has no watchdog for another pid', () => {
    const none = systemdNotifier({}, (err) => expect.fail(err.message), command);
    none.notify('READY=1');
    expect(none.watchdogMs).toBeUndefined();
    const other = systemdNotifier(
      { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '1000', WATCHDOG_PID: '1' },
      () => {},
      command,
    );
    expect(other.watchdogMs).toBeUndefined();
  });
});
