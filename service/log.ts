/**
 * The log of the server and of job workers: JSON lines (pino), one object per event, so every
 * value (a URL a client sent, a job id) is a field and never part of a format string. Errors go
 * under `err` with their stack (pino's error serializer). The level is a setting (`--log-level`,
 * LIFT_LOG_LEVEL); tests pass their own destination to read the lines back.
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

let fallback: Logger | undefined;

/** The log of code run without a server to pass its own (scripts, tests): stdout at $LIFT_LOG_LEVEL, else info. */
export function defaultLogger(): Logger {
  return fallback ??= createLogger(parseLogLevel(process.env.LIFT_LOG_LEVEL ?? 'info'));
}
