import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

/** Replaces every redacted value. */
export const REDACTED = '[REDACTED]';

const SECRET_KEYS = [
  'authorization',
  'cookie',
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'code_verifier',
  'secret',
  'statusToken',
];

/**
 * Paths pino redacts: secret-named keys at the top level and up to two levels down, plus request and
 * response headers that carry credentials.
 */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers["set-cookie"]',
];

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Level (default `info`; `LOG_LEVEL`-style names: trace, debug, info, warn, error, fatal, silent). */
  level?: string;
  /** Logger name (`name` field). */
  name?: string;
  /** Extra redaction paths (pino syntax) on top of {@link REDACT_PATHS}. */
  redact?: readonly string[];
  /** Where lines go (default stdout). */
  destination?: DestinationStream;
  /** Any other pino option (redact and serializers are merged, not replaced). */
  pino?: Omit<LoggerOptions, 'redact' | 'name' | 'level'>;
}

/** A pino logger that redacts credentials, tokens, cookies and passwords, with the standard `err` serializer. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const loggerOptions: LoggerOptions = {
    ...options.pino,
    level: options.level ?? 'info',
    redact: { paths: [...REDACT_PATHS, ...(options.redact ?? [])], censor: REDACTED },
    serializers: { err: pino.stdSerializers.err, ...options.pino?.serializers },
    ...(options.name ? { name: options.name } : {}),
  };
  return options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
}
