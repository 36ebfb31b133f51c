import type { BrewerError, BrewerEventArgs, BrewerFault, BrewerReplyArgs, BrewerVerb } from './brewer';
import type { DialectDescription } from './describe';

/**
 * The brewer dialect in words: what each verb does, replies and may fail with. Typed against the dialect, so a
 * verb added to the codec without a description does not compile; docs/protocol.md is generated from it.
 */
export const BrewerDescription: DialectDescription<
  BrewerVerb,
  keyof typeof BrewerReplyArgs,
  keyof typeof BrewerEventArgs,
  BrewerError
> = {
  request: {
    PING: { args: '', reply: '(none)', errors: '' },
    INFO: { args: '', reply: '`fw`, `model`, `serial`', errors: '' },
    STATUS: {
      args: '',
      reply:
        '`state` (idle/busy/fault), `temp_c`, `bar`, `water_ml`, `beans_g`, `milk_ml`, `cups`, `waste_pct`, `cup` (0/1), `door` (open/closed), `faults` (`:`-separated; always sent, empty when none)',
      errors: '',
    },
    HEAT: { args: 'temp_c', reply: '`temp_c` (reached)', errors: 'FAULT fault=boiler_overheat, BAD_ARGS' },
    CUP: {
      args: '',
      reply: '(none); a cup is now under the spout',
      errors: 'EMPTY fault=cups_empty, NO_CUP (dropper failed), DOOR_OPEN',
    },
    GRIND: {
      args: 'g',
      reply: '`g` (actually ground)',
      errors: 'EMPTY fault=beans_empty, FAULT fault=grinder_jam, NO_CUP, DOOR_OPEN',
    },
    PREINFUSE: { args: 'ms', reply: '`ms`', errors: 'NO_CUP, EMPTY fault=water_empty' },
    BREW: {
      args: 'ml temp_c bar',
      reply: '`ml` (actually pumped), `temp_c`, `bar`',
      errors:
        'NOT_HOT, NO_CUP, EMPTY fault=water_empty, FAULT fault=pump_fault, DOOR_OPEN, ABORTED (STOP arrived)',
    },
    MILK: {
      args: 'ml temp_c foam (0/1)',
      reply: '`ml`',
      errors: 'EMPTY fault=milk_empty, NO_CUP, ABORTED',
    },
    WATER: { args: 'ml', reply: '`ml`', errors: 'EMPTY fault=water_empty, NO_CUP, ABORTED' },
    DOSE: {
      args: 'bin amt',
      reply: '`amt` (actually dosed, in the bin’s unit)',
      errors: 'BAD_ARGS (no such bin), NO_CUP, ABORTED',
    },
    DISPENSE: { args: '', reply: '(none); the drink is released to the customer', errors: 'NO_CUP' },
    STOP: {
      args: '',
      reply: '(none); every actuator is off, a running step ends with ERR ABORTED',
      errors: '',
    },
    RINSE: { args: 'cycles', reply: '`ml` (water used)', errors: 'EMPTY fault=water_empty, DOOR_OPEN' },
    DESCALE: {
      args: '',
      reply:
        '`ml` (water used), `ms` (time taken); the descaling solution is in the tank. Fills, soaks and flushes: about 15 minutes, PROGRESS `op=DESCALE` as it goes',
      errors:
        'BUSY (a step is running), EMPTY fault=water_empty (needs 1 l), DOOR_OPEN, ABORTED (STOP arrived)',
    },
    RESET: { args: '', reply: '(none); clears latched faults whose cause is gone', errors: '' },
    BOOTLOADER: {
      args: '',
      reply:
        '`active` (slot that runs); bootloader mode: only PING, INFO and the bootloader verbs are served until REBOOT',
      errors: 'BUSY (a step is running: STOP it first)',
    },
    FLASH: {
      args: 'slot off data crc',
      reply:
        '`len` (bytes now in the slot). `data` is 1 to 48 bytes as hex; `crc` is CRC-16/CCITT-FALSE of those bytes; `off` must be at most `len` (a chunk at `len` appends, one below rewrites it)',
      errors: 'WRONG_MODE, SLOT_ACTIVE, BAD_CRC, BAD_OFFSET',
    },
    VERIFY: {
      args: 'slot size sha256',
      reply: '`fw` (version from the image header); the slot is `verified`',
      errors: 'WRONG_MODE, SLOT_ACTIVE, BAD_IMAGE (length, hash or header wrong; the slot is `bad`)',
    },
    ACTIVATE: {
      args: 'slot',
      reply:
        '`pending` (slot); the next boots try this slot. Activating the active slot cancels a pending trial',
      errors: 'WRONG_MODE, BAD_IMAGE (slot not verified)',
    },
    REBOOT: {
      args: '',
      reply: '(none), then the line is silent until READY from the image that booted',
      errors: '',
    },
    SLOTS: { args: '', reply: 'slot table, see `BootloaderSlotsSchema` below', errors: '' },
    CONFIRM: {
      args: '',
      reply:
        '`slot`; the running trial image is kept for good (sent by the agent once its health check passed)',
      errors: 'WRONG_MODE (in bootloader mode)',
    },
  },
  reply: {
    OK: {
      args: 'verb-specific values',
      reply: 'The request succeeded (a long step: it has finished)',
      errors: '',
    },
    ERR: {
      args: 'code [fault] [msg]',
      reply:
        'The request failed; `code` is one of the brewer error codes, `msg` free text (percent-encoded like any value)',
      errors: '',
    },
  },
  event: {
    READY: { args: 'fw model', reply: 'Sent at power-up and after the link is restored', errors: '' },
    PROGRESS: {
      args: 'op pct',
      reply:
        'A long step is `pct` percent done; `op` is its verb as requested, e.g. `BREW`; a step that succeeds always sends its 100 before its reply',
      errors: '',
    },
    FAULT: { args: 'code', reply: 'A fault was raised (`code` is a brewer fault)', errors: '' },
    CLEAR: { args: 'code', reply: 'A fault cleared', errors: '' },
    CUP: { args: 'state (present/removed)', reply: 'A cup was placed or taken away', errors: '' },
    DOOR: { args: 'state (open/closed)', reply: 'The service door opened or closed', errors: '' },
  },
  errors: {
    BUSY: 'A long step is running; only PING, STATUS, INFO and STOP are served meanwhile',
    BAD_ARGS: 'Arguments missing or out of range, or a verb the device does not know',
    NO_CUP: 'No cup under the spout (or the dropper failed)',
    DOOR_OPEN: 'The service door is open',
    FAULT: 'A hardware fault stopped the step; `fault` names it',
    EMPTY: 'A material ran out; `fault` names it',
    NOT_HOT: 'The boiler is below the requested brewing temperature',
    ABORTED: 'STOP arrived while the step ran',
    INTERNAL: 'Controller error',
    WRONG_MODE:
      'The verb is not served in this mode (an application verb in bootloader mode, or the reverse)',
    BAD_CRC: 'The chunk does not match its CRC; nothing was written',
    BAD_OFFSET: 'The chunk would leave a gap: `off` is past the bytes written so far',
    BAD_IMAGE: 'The image is not what VERIFY promised, or the slot holds no verified image',
    SLOT_ACTIVE: 'The slot holds the running image and cannot be written',
  },
};

/** Faults the brewer reports in FAULT/CLEAR events, ERR replies and STATUS. */
export const BrewerFaultDescription: Readonly<Record<BrewerFault, string>> = {
  water_empty: 'Water tank empty',
  beans_empty: 'Bean hopper empty',
  milk_empty: 'Milk container empty',
  cups_empty: 'Cup dispenser empty',
  waste_full: 'Grounds bin full',
  grinder_jam: 'Grinder jammed',
  boiler_overheat: 'Boiler over its safe temperature; heater cut',
  pump_fault: 'Pump cannot build pressure',
  door_open: 'Service door open',
  no_cup: 'No cup under the spout',
};
