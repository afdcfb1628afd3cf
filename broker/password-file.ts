// Mosquitto-style password files: one `user:hash` line per user, so a file written by
// `mosquitto_passwd` works here and one written here works with Mosquitto 2.
// New entries use Mosquitto 2's `$7$` format: `$7$<iterations>$<base64 salt>$<base64 PBKDF2-SHA512>`.
// Mosquitto 1.x `$6$` entries (`$6$<base64 salt>$<base64 SHA-512(password + salt)>`) are still accepted.
import { createHash, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";
import { open, readFile, rename, unlink } from "node:fs/promises";
import { promisify } from "node:util";

const pbkdf2Async = promisify(pbkdf2);

/** Mosquitto 2 writes 101; it reads the count from each entry, so a higher one stays compatible. */
export const DEFAULT_ITERATIONS = 10_000;
const SALT_BYTES = 12;
const HASH_BYTES = 64;

export class PasswordFileError extends Error {
  readonly code = "PASSWORD_FILE_INVALID";
}

/** user name → stored hash string (`$7$...` or `$6$...`). */
export type PasswordTable = ReadonlyMap<string, string>;

export function parsePasswordFile(text: string, fileName = "password file"): PasswordTable {
  const table = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === "" || line.startsWith("#")) return;
    const colon = line.indexOf(":");
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1).trim();
    if (colon <= 0 || !/^\$[67]\$/.test(hash)) {
      throw new PasswordFileError(
        `${fileName} line ${index + 1}: expected user:$7$... (create entries with pipdu passwd)`,
      );
    }
    table.set(user, hash);
  });
  return table;
}

export async function loadPasswordFile(file: string): Promise<PasswordTable> {
  return parsePasswordFile(await readFile(file, "utf8"), file);
}

export async function hashPassword(password: string, iterations = DEFAULT_ITERATIONS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await pbkdf2Async(password, salt, iterations, HASH_BYTES, "sha512");
  return `$7$${iterations}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/** True when `password` matches the stored hash. Runs PBKDF2 off the event loop; compares in constant time. */
export async function verifyPassword(stored: string, password: Buffer | string): Promise<boolean> {
  const fields = stored.split("$");
  if (fields[1] === "7" && fields.length === 5) {
    const iterations = Number(fields[2]);
    if (!Number.isInteger(iterations) || iterations < 1 || iterations > 10_000_000) return false;
    const expected = Buffer.from(fields[4] ?? "", "base64");
    const actual = await pbkdf2Async(
      password,
      Buffer.from(fields[3] ?? "", "base64"),
      iterations,
      expected.length || HASH_BYTES,
      "sha512",
    );
    return expected.length > 0 && timingSafeEqual(actual, expected);
  }
  if (fields[1] === "6" && fields.length === 4) {
    const expected = Buffer.from(fields[3] ?? "", "base64");
    const actual = createHash("sha512")
      .update(password)
      .update(Buffer.from(fields[2] ?? "", "base64"))
      .digest();
    return expected.length === actual.length && timingSafeEqual(actual, expected);
  }
  return false;
}

export function checkUserName(user: string): void {
  if (user === "" || /[:\r\n]/.test(user) || Buffer.byteLength(user) > 65535) {
    throw new PasswordFileError(
      `user name ${JSON.stringify(user)} must be non-empty and contain no ':' or line break`,
    );
  }
}

/**
 * Adds `user` to the password file, or replaces its password; creates the file (mode 0600) when missing.
 * This is what `pipdu passwd <file> <user>` runs. Other lines, comments included, are kept as they are.
 */
export async function setPassword(
  file: string,
  user: string,
  password: string,
  iterations = DEFAULT_ITERATIONS,
): Promise<void> {
  checkUserName(user);
  if (password === "") throw new PasswordFileError("the password must not be empty");
  let lines: string[] = [];
  try {
    lines = (await readFile(file, "utf8"))
      .split(/\r?\n/)
      .filter((line, index, all) => line !== "" || index < all.length - 1);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  parsePasswordFile(lines.join("\n"), file); // refuse to rewrite a file we cannot read back
  const entry = `${user}:${await hashPassword(password, iterations)}`;
  const at = lines.findIndex((line) => line.startsWith(`${user}:`));
  if (at >= 0) lines[at] = entry;
  else lines.push(entry);
  await writeAtomically(file, `${lines.join("\n")}\n`);
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = `${file}.tmp-${process.pid}`;
  const handle = await open(temp, "w", 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
