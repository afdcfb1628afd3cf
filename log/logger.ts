// One winston logger per process: readable lines by default, JSON lines with format "json".
import winston from "winston";

export type Logger = winston.Logger;
export type LogFormat = "text" | "json";

export function createLogger(options: { level?: string; format?: LogFormat; silent?: boolean } = {}): Logger {
  const format =
    options.format === "json"
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp({ format: "HH:mm:ss.SSS" }),
          winston.format.printf((info) => {
            const { timestamp, level, message, component, ...rest } = info as Record<string, unknown>;
            const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : "";
            const tag = typeof component === "string" ? `[${component}] ` : "";
            return `${String(timestamp)} ${String(level)} ${tag}${String(message)}${extra}`;
          }),
        );
  // Logs go to stderr; stdout is for what a command prints for the user (addresses, config print).
  const console = new winston.transports.Console({
    stderrLevels: ["error", "warn", "info", "debug", "verbose", "silly"],
  });
  const logger = winston.createLogger({
    level: options.level ?? "info",
    format,
    silent: options.silent ?? false,
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston's types split Transport
    transports: [console],
  });
  // winston formats every entry (timestamp, printf) before its transport drops the ones below the level: a
  // command logged at info cost that on every switch with the level at warn. Check the level first.
  const methods = logger as unknown as Record<string, (...args: unknown[]) => Logger>;
  for (const level of Object.keys(logger.levels)) {
    const write = methods[level];
    if (typeof write !== "function") continue;
    methods[level] = function (this: Logger, ...args: unknown[]): Logger {
      return this.isLevelEnabled(level) ? write.apply(this, args) : this;
    };
  }
  return logger;
}

/** A logger that drops everything: for units that take a logger but whose output a test does not read. */
export function silentLogger(): Logger {
  return createLogger({ silent: true });
}
