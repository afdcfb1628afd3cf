// convict formats whose errors say what is allowed. Environment and command-line values arrive as
// strings: numbers are coerced only when they look like numbers, so a bad value is reported as typed.
import convict from "convict";

function toNumber(value: unknown): unknown {
  if (typeof value === "string" && /^\s*-?(\d+\.?\d*|\.\d+)\s*$/.test(value)) return Number(value);
  return value;
}

function toBoolean(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const v = value.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(v)) return true;
  if (["false", "0", "no", "off"].includes(v)) return false;
  return value;
}

export function numberIn(name: string, min: number, max: number, integer = false): string {
  convict.addFormat({
    name,
    coerce: toNumber,
    validate(value: unknown) {
      if (
        typeof value !== "number" ||
        !Number.isFinite(value) ||
        value < min ||
        value > max ||
        (integer && !Number.isInteger(value))
      ) {
        throw new Error(`must be ${integer ? "an integer" : "a number"} from ${min} to ${max}`);
      }
    },
  });
  return name;
}

convict.addFormat({
  name: "bool",
  coerce: toBoolean,
  validate(value: unknown) {
    if (typeof value !== "boolean") throw new Error("must be true or false");
  },
});

convict.addFormat({
  name: "tcp-port",
  coerce: toNumber,
  validate(value: unknown) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 65535) {
      throw new Error("must be a TCP port from 0 to 65535 (0 = any free port)");
    }
  },
});

convict.addFormat({
  name: "optional-string",
  validate(value: unknown) {
    if (value !== null && typeof value !== "string") throw new Error("must be a string");
  },
});

/** A format whose value is JSON in the environment or on the command line, and a value in a file. */
export function jsonFormat(name: string, validate: (value: unknown) => void): string {
  convict.addFormat({
    name,
    coerce: (value: unknown): unknown => {
      if (typeof value !== "string") return value;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        return value; // reported by validate, with what is allowed
      }
    },
    validate,
  });
  return name;
}

export function oneOf(values: readonly string[]): (value: unknown) => void {
  return (value: unknown) => {
    if (typeof value !== "string" || !values.includes(value)) {
      throw new Error(`must be one of ${values.join(", ")}`);
    }
  };
}

export function matching(pattern: RegExp, what: string): (value: unknown) => void {
  return (value: unknown) => {
    if (typeof value !== "string" || !pattern.test(value)) throw new Error(`must be ${what}`);
  };
}

convict.addFormat({
  name: "time-zone",
  validate(value: unknown) {
    if (value === null || value === "") return;
    if (typeof value !== "string") throw new Error("must be a time zone name such as Europe/Berlin");
    try {
      new Intl.DateTimeFormat("en", { timeZone: value });
    } catch {
      throw new Error("must be an IANA time zone name such as Europe/Berlin or UTC (empty: the system's)");
    }
  },
});
