import { pino } from 'pino';

export type Logger = pino.Logger;

/** Root logger; each module takes a child with its namespace, e.g. `logger.child({ ns: 'agent:brewer' })`. */
export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    { level: options.level ?? process.env.CREMA_LOG_LEVEL ?? 'info', base: undefined },
    options.destination,
  );
}

/** A logger that discards everything, for unit tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
