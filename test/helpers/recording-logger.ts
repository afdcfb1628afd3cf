// A logger for tests that keeps every line, so a test can read what the agent logged.
import { Writable } from "node:stream";
import winston from "winston";
import type { Logger } from "../../log/logger.ts";

/** A logger that keeps every line (level and message) for a test to read. */
export function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString().trim());
      done();
    },
  });
  const logger = winston.createLogger({
    level: "debug",
    format: winston.format.printf((info) => `${info.level} ${String(info.message)}`),
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston's own Stream transport is a TransportStream
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}
