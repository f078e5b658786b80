import { destination, pino, type Logger } from "pino";

/** Paths pino blanks in every log line, so secrets never reach logs (SPEC 9.7). */
const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "headers.cookie",
  "*.apiKey",
  "*.secret",
  "*.token",
  "*.password",
];

export function createLogger(options: { level: string; destination?: NodeJS.WritableStream }): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      base: { service: "inlet" },
    },
    options.destination ?? destination({ sync: false }),
  );
}
