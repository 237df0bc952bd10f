/**
 * The server's log: JSON lines (pino), one object per event, so every value a client sent (a URL,
 * a header) is a field and never part of a format string. Errors go under `err` with their stack
 * (pino's error serializer). The level is a setting (`--log-level`, LIFT_LOG_LEVEL); tests pass
 * their own destination to read the lines back.
 */
import pino from 'pino';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function parseLogLevel(v: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new Error(`log level: expected one of ${LOG_LEVELS.join(', ')}, got '${v}'`);
}

/** A logger writing to `destination` (default: stdout), with level names rather than numbers. */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'lift-zoo' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}
