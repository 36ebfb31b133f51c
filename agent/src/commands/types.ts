import type { Command, CommandKind } from '@crema/protocol';

export type CommandOf<K extends CommandKind> = Extract<Command, { kind: K }>;

export type HandlerContext = {
  now(): number;
  /** Reports `executing` progress to the hub (best effort). */
  progress(percent: number, message?: string): void;
};

export type HandlerOutcome = {
  output?: Record<string, unknown>;
  message?: string;
  /**
   * The command's store writes, run synchronously inside the transaction that also records the result and
   * queues the `command_result` record: the change and its report commit together or not at all.
   */
  apply?: () => void;
  /** Runs once the result is durably recorded (e.g. restarting the agent after saying so). */
  after?: () => void;
};

export type CommandHandler<K extends CommandKind = CommandKind> = {
  /** Validates and does the work; throws an AgentError to fail the command with its code. */
  run(command: CommandOf<K>, ctx: HandlerContext): Promise<HandlerOutcome>;
  /**
   * Only touches the store (all in `apply`), so running it again after a crash mid-way is safe. A handler that
   * moves hardware is never repeated: an interrupted run is reported failed instead.
   */
  storeOnly: boolean;
  /**
   * Keeps its own journal of how far it got (updates): run again after a restart it joins or finishes that
   * work instead of being reported as interrupted, and a stop mid-way records no result.
   */
  resumable?: boolean;
  /** Waits until no brew or payment is in progress (reports `deferred` meanwhile). */
  defer: boolean;
};

export type CommandHandlers = { [K in CommandKind]?: CommandHandler<K> };
