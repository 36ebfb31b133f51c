import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrewerDialect, PaymentDialect, seededRandom } from '@crema/protocol';
import { BootRunner, type BootTiming, DEFAULT_BOOT_TIMING } from './boot/boot-runner';
import { Bootloader } from './boot/bootloader';
import { buildImage } from './boot/image';
import { BrewerController } from './brewer/controller';
import { ControlServer } from './control/server';
import { SimError } from './errors';
import { type LineName, LinePort } from './link/line-port';
import type { ByteStream } from './link/stream';
import { type Logger, silentLogger } from './log';
import { RegisterBank } from './modbus/register-bank';
import { ModbusRtuServer } from './modbus/rtu-server';
import { ModbusTcpServer } from './modbus/tcp-server';
import { FaultRegistry } from './model/faults';
import { type Levels, Machine } from './model/machine';
import { Operations } from './model/operations';
import { specOf } from './model/specs';
import type { DispenseRecord } from './model/steps';
import { PaymentLedger } from './payment/ledger';
import { DEFAULT_TIMING, PaymentTerminal, type TerminalTiming } from './payment/terminal';
import { SerialEndpoint } from './ports/serial-endpoint';
import { TcpEndpoint } from './ports/tcp-endpoint';
import { type Clock, scaledClock, systemClock } from './time/clock';

export type SimulatorOptions = {
  /** Interface every port binds to (default 127.0.0.1). */
  host?: string;
  /** TCP ports; 0 (the default) picks a free one. */
  brewerTcpPort?: number;
  paymentTcpPort?: number;
  modbusTcpPort?: number;
  /** Control HTTP port (0 = free port); `false` serves no control endpoint. */
  controlPort?: number | false;
  /** Serve the brewer, payment terminal and Modbus RTU on pseudo-terminals too (default true; needs socat). */
  pty?: boolean;
  /**
   * Directory of the pty links (`brewer`, `payment`, `modbus`); default a fresh temporary one. A given one is
   * left in place on stop, so another machine can be plugged in under the same paths.
   */
  ptyDir?: string;
  model?: string;
  seed?: number;
  /** Simulated seconds per real second (default 1). Ignored when `clock` is given. */
  timeScale?: number;
  clock?: Clock;
  /**
   * Simulated ms between the checks (door, cup, supplies, faults) of a long step such as a grind or an
   * extraction (default 100). At a timeScale in the hundreds each 100 ms is a timer shorter than the 1 ms Node
   * waits at least, so a drink takes hundreds of real ms whatever the scale; a longer tick lets it follow the scale.
   */
  stepTickMs?: number;
  /** Boiler temperature at power-up (default ambient: the boiler heats to its set point). */
  initialTempC?: number;
  levels?: Partial<Levels>;
  paymentTiming?: Partial<TerminalTiming>;
  /** Reboot, watchdog and flash timing of the brewer's bootloader (simulated ms). */
  bootTiming?: Partial<BootTiming>;
  /** Boots a trial image gets to be confirmed before the bootloader falls back (default 3). */
  maxTrialBoots?: number;
  logger?: Logger;
};

export type SimulatorEndpoints = {
  serial: { pty?: string; tcp: string };
  modbus: { tcp: string; rtu?: string; unitIds: number[] };
  payment: { pty?: string; tcp: string };
  control?: string;
};

export type Simulator = {
  endpoints: SimulatorEndpoints;
  model: Machine;
  operations: Operations;
  bootloader: Bootloader;
  faults: FaultRegistry;
  payments: PaymentLedger;
  dispenses(): readonly DispenseRecord[];
  /** The socat process bridging a link's pty, while it runs (killing it is what a crashed bridge looks like). */
  ptyBridgePid(link: 'brewer' | 'payment' | 'modbus'): number | undefined;
  stop(): Promise<void>;
};

/** Starts one simulated coffee machine with all its ports; resolves when every port accepts connections. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger;
  const spec = specOf(options.model ?? 'cm-1');
  if (!spec) throw new SimError('CONFIG_INVALID', `unknown machine model '${options.model}'`);
  const seed = options.seed ?? Math.floor(Math.random() * 0x7fffffff);
  const clock = options.clock ?? scaledClock(options.timeScale ?? 1);
  // Separate streams per device, so traffic on one port never shifts the draws of another.
  const random = seededRandom(seed);
  const paymentRandom = seededRandom(seed ^ 0x5bd1e995);
  const lineRandom = seededRandom(seed ^ 0x27d4eb2f);
  const faults = new FaultRegistry();
  const machine = new Machine({
    spec,
    clock,
    random,
    faults,
    initialTempC: options.initialTempC,
    levels: options.levels,
  });
  const operations = new Operations(machine, options.stepTickMs);
  const serial = `SIM-${spec.model.toUpperCase()}-${(seed % 100000).toString().padStart(5, '0')}`;
  // The factory image in slot a: what the machine ran before any update.
  const bootloader = new Bootloader(
    spec.model,
    buildImage({ model: spec.model, version: spec.fw }),
    options.maxTrialBoots ?? 3,
  );
  const bootRunner = new BootRunner(
    bootloader,
    machine,
    spec,
    clock,
    { ...DEFAULT_BOOT_TIMING, ...options.bootTiming },
    logger.child({ ns: 'sim:boot' }),
  );
  const brewer = new BrewerController(
    machine,
    operations,
    serial,
    logger.child({ ns: 'sim:brewer' }),
    bootRunner,
  );
  const ledger = new PaymentLedger();
  const terminal = new PaymentTerminal(
    ledger,
    faults,
    clock,
    paymentRandom,
    'ct-200',
    logger.child({ ns: 'sim:payment' }),
    { ...DEFAULT_TIMING, ...options.paymentTiming },
  );
  const bank = new RegisterBank(machine);

  const linePort = (name: LineName, stream: ByteStream) =>
    new LinePort({
      name,
      stream,
      dialect: name === 'brewer' ? BrewerDialect : PaymentDialect,
      faults,
      clock,
      random: lineRandom,
      logger: logger.child({ ns: `sim:${name}:line` }),
    });
  const onBrewer = (s: ByteStream) => brewer.attach(linePort('brewer', s));
  const onPayment = (s: ByteStream) => terminal.attach(linePort('payment', s));
  const onRtu = (s: ByteStream) =>
    new ModbusRtuServer(bank, s, systemClock, logger.child({ ns: 'sim:modbus:rtu' })).start();

  const tcpLog = logger.child({ ns: 'sim:tcp' });
  const brewerTcp = new TcpEndpoint(host, options.brewerTcpPort ?? 0, onBrewer, tcpLog);
  const paymentTcp = new TcpEndpoint(host, options.paymentTcpPort ?? 0, onPayment, tcpLog);
  const modbusTcp = new ModbusTcpServer(
    bank,
    host,
    options.modbusTcpPort ?? 0,
    logger.child({ ns: 'sim:modbus:tcp' }),
  );

  const usePty = options.pty ?? true;
  const ownDir = usePty && options.ptyDir === undefined;
  const dir = usePty ? (options.ptyDir ?? mkdtempSync(join(tmpdir(), 'crema-sim-'))) : undefined;
  const ptyLog = logger.child({ ns: 'sim:pty' });
  const brewerPty = dir ? new SerialEndpoint(join(dir, 'brewer'), 115200, onBrewer, ptyLog) : undefined;
  const paymentPty = dir ? new SerialEndpoint(join(dir, 'payment'), 115200, onPayment, ptyLog) : undefined;
  const rtuPty = dir ? new SerialEndpoint(join(dir, 'modbus'), 19200, onRtu, ptyLog) : undefined;

  const groups: Record<
    'brewer' | 'payment' | 'modbus',
    Array<{ start(): Promise<void>; stop(): Promise<void> }>
  > = {
    brewer: [brewerTcp, ...(brewerPty ? [brewerPty] : [])],
    payment: [paymentTcp, ...(paymentPty ? [paymentPty] : [])],
    modbus: [modbusTcp, ...(rtuPty ? [rtuPty] : [])],
  };
  const control =
    options.controlPort === false ? undefined : new ControlServer(host, options.controlPort ?? 0);

  // Link faults close and reopen ports; one at a time, in order.
  let linkQueue: Promise<void> = Promise.resolve();
  let stopped = false;
  const offFaults = faults.onChange((c) => {
    const group = { brewer_link_down: 'brewer', payment_link_down: 'payment', modbus_link_down: 'modbus' }[
      c.name as string
    ] as keyof typeof groups | undefined;
    if (!group) return;
    linkQueue = linkQueue
      .then(async () => {
        if (stopped) return;
        for (const part of groups[group]) await (c.active ? part.stop() : part.start());
        logger.info({ link: group, up: !c.active }, c.active ? 'link dropped' : 'link restored');
      })
      .catch((e) => logger.error({ err: e, link: group }, 'link change failed'));
  });

  const all = [...groups.brewer, ...groups.payment, ...groups.modbus];
  const started: typeof all = [];
  const stopAll = async () => {
    stopped = true;
    offFaults();
    await linkQueue;
    await control?.stop();
    brewer.stop();
    terminal.stop();
    machine.stop();
    await Promise.all(started.map((p) => p.stop().catch(() => {})));
    if (dir && ownDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    machine.start();
    brewer.start();
    for (const part of all) {
      await part.start();
      started.push(part);
    }
    const endpoints: SimulatorEndpoints = {
      serial: { ...(brewerPty ? { pty: brewerPty.path } : {}), tcp: brewerTcp.address },
      modbus: { tcp: modbusTcp.address, ...(rtuPty ? { rtu: rtuPty.path } : {}), unitIds: bank.unitIds },
      payment: { ...(paymentPty ? { pty: paymentPty.path } : {}), tcp: paymentTcp.address },
    };
    const sim: Simulator = {
      endpoints,
      model: machine,
      operations,
      bootloader,
      faults,
      payments: ledger,
      dispenses: () => operations.dispenseLog(),
      ptyBridgePid: (link) => ({ brewer: brewerPty, payment: paymentPty, modbus: rtuPty })[link]?.bridgePid,
      stop: stopAll,
    };
    if (control) {
      await control.start(sim);
      endpoints.control = control.url;
    }
    logger.info({ endpoints, seed, model: spec.model }, 'simulator ready');
    return sim;
  } catch (e) {
    await stopAll();
    throw e;
  }
}
