import { pino } from 'pino';

export type Logger = pino.Logger;

/** Logs go to stderr: stdout carries only the ready line. */
export function createLogger(level = process.env.CREMA_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: undefined }, pino.destination(2));
}

export const silentLogger: Logger = pino({ level: 'silent' });
