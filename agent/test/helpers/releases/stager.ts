import { FileReleaseSlots } from '../../../src/updates/slots/file-slots';
import { readPointer, writePointer } from '../../../src/updates/slots/pointer';
import { rollBack } from '../../../src/updates/slots/transitions';

/**
 * Runs update after update on a layout, as fast as it can, so that a SIGKILL from the test lands anywhere in
 * stage, activate and the resolution of the trial (a confirmation, or every third time a rollback as the
 * launcher writes it). Prints the phase it enters on stdout: `<phase> <n>`.
 * usage: node stager.mjs <root> <release file>...
 */
const [root, ...files] = process.argv.slice(2);
if (!root || files.length === 0) throw new Error('usage: stager <root> <release file>...');
const say = (phase: string, n: number) => process.stdout.write(`${phase} ${n}\n`);

for (let n = 0; ; n++) {
  const pointer = readPointer(root);
  if (!pointer) throw new Error('no pointer');
  if (pointer.trial) {
    say('resolve', n);
    if (n % 3 === 0) writePointer(root, rollBack(pointer, 'stager: rolled back', Date.now()));
    else await FileReleaseSlots.open({ root, slot: pointer.trial.slot }).confirm();
  }
  const slots = FileReleaseSlots.open({ root });
  const file = files[n % files.length] as string;
  const version = `1.${n + 1}.0`;
  say('stage', n);
  await slots.stage(file, version);
  say('activate', n);
  await slots.activate(version);
}
