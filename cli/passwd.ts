// pipdu passwd <file> <user>: add or change a user in a Mosquitto-style password file. The password is read
// from the terminal without echo, or from the first line of standard input when it is not a terminal.
import { createInterface } from "node:readline";

export async function runPasswd(args: string[]): Promise<number> {
  const [file, user] = args;
  const option = args.find((a) => a.startsWith("-"));
  if (option !== undefined) {
    console.error(`pipdu passwd: unknown option ${option} (pipdu passwd --help shows the usage)`);
    return 2;
  }
  if (file === undefined || user === undefined || args.length !== 2) {
    console.error(
      "usage: pipdu passwd <password file> <user>   (the password is read from the terminal or stdin)",
    );
    return 2;
  }
  const { setPassword, checkUserName } = await import("../broker/password-file.ts");
  try {
    checkUserName(user);
  } catch (err) {
    console.error(`pipdu passwd: ${(err as Error).message}`);
    return 2;
  }
  const password = await readPassword(`password for ${user}: `);
  if (password.length === 0) {
    console.error("pipdu passwd: empty password refused");
    return 2;
  }
  await setPassword(file, user, password);
  console.error(`pipdu passwd: ${user} written to ${file}`);
  return 0;
}

function readPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const lines = createInterface({ input: stdin });
    return new Promise((resolve) => {
      let done = false;
      lines.once("line", (line) => {
        done = true;
        lines.close();
        resolve(line);
      });
      lines.once("close", () => {
        if (!done) resolve("");
      });
    });
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve) => {
    let text = "";
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off("data", onData);
          process.stderr.write("\n");
          resolve(text);
          return;
        }
        if (ch === "\u0003") process.exit(130); // Ctrl-C
        if (ch === "\u007f") text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on("data", onData);
  });
}
