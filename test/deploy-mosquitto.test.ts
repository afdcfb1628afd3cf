// The shipped Mosquitto configurations, run by a real Mosquitto (2.0.11 has no `-t` test mode): the file is
// adapted only where a test must (free ports, temporary paths, the user to run as), started, and probed with
// mosquitto_pub/mosquitto_sub: credentials required, retained messages kept across a restart.
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import test, { type ExecutionContext } from "ava";
import YAML from "yaml";
import { ROOT, freePort, hasMosquitto, tempDir, waitForPort } from "./helpers/system.ts";

const run = hasMosquitto ? test.serial : test.skip;

interface Running {
  port: number;
  wsPort: number | null;
  output: () => string;
  stop: () => Promise<void>;
}

/** Replace listener ports and absolute paths; everything else (nodelay, persistence, auth) stays as shipped. */
function adapt(text: string, dir: string, ports: number[], passwordFile: string): string {
  let listener = 0;
  const lines = text.split("\n").map((line) => {
    if (/^listener\s+\d+/.test(line)) return `listener ${ports[listener++] ?? 0} 127.0.0.1`;
    if (/^password_file\s/.test(line)) return `password_file ${passwordFile}`;
    if (/^persistence_location\s/.test(line)) return `persistence_location ${dir}/`;
    return line;
  });
  t_assert(listener === ports.length, `expected ${ports.length} listeners, found ${listener}`);
  if (process.getuid?.() === 0) lines.push("user root");
  return lines.join("\n");
}
function t_assert(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

async function startMosquitto(t: ExecutionContext, conf: string, port: number): Promise<Running> {
  let output = "";
  const child: ChildProcess = spawn("mosquitto", ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  t.teardown(stop);
  await waitForPort(port).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; mosquitto said:\n${output}`);
  });
  return { port, wsPort: null, output: () => output, stop };
}

function client(
  tool: "mosquitto_pub" | "mosquitto_sub",
  args: string[],
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(tool, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

function passwd(file: string, user: string, password: string, create: boolean): void {
  const r = spawnSync("mosquitto_passwd", [...(create ? ["-c"] : []), "-b", file, user, password]);
  if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr.toString()}`);
}

run(
  "compose mosquitto.conf: Mosquitto runs it, wants a password, keeps retained messages across a restart",
  async (t) => {
    const dir = tempDir(t);
    const passwordFile = path.join(dir, "passwd");
    passwd(passwordFile, "pipdu", "s3cret", true);
    const [port, wsPort] = [await freePort(), await freePort()];
    const shipped = fs.readFileSync(path.join(ROOT, "deploy/mosquitto/mosquitto.conf"), "utf8");
    t.regex(shipped, /^set_tcp_nodelay true$/m);
    t.regex(shipped, /^persistence true$/m);
    t.regex(shipped, /^allow_anonymous false$/m);
    t.regex(shipped, /^password_file \/mosquitto\/auth\/passwd$/m);
    const conf = path.join(dir, "mosquitto.conf");
    fs.writeFileSync(conf, adapt(shipped, dir, [port, wsPort], passwordFile));

    let broker = await startMosquitto(t, conf, port);
    await waitForPort(wsPort);
    const auth = ["-h", "127.0.0.1", "-p", String(port), "-u", "pipdu", "-P", "s3cret"];
    const anonymous = await client("mosquitto_pub", [
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-t",
      "pipdu/pdu1/availability",
      "-m",
      "online",
    ]);
    t.not(anonymous.code, 0, "anonymous clients are refused");
    const wrong = await client("mosquitto_pub", [
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-u",
      "pipdu",
      "-P",
      "nope",
      "-t",
      "x",
      "-m",
      "y",
    ]);
    t.not(wrong.code, 0, "a wrong password is refused");
    t.is(
      (
        await client("mosquitto_pub", [
          ...auth,
          "-q",
          "1",
          "-r",
          "-t",
          "pipdu/pdu1/availability",
          "-m",
          "online",
        ])
      ).code,
      0,
    );

    await broker.stop();
    t.notRegex(broker.output(), /Error|Unknown configuration/i, broker.output());
    broker = await startMosquitto(t, conf, port);
    const replay = await client("mosquitto_sub", [
      ...auth,
      "-t",
      "pipdu/pdu1/availability",
      "-C",
      "1",
      "-W",
      "5",
      "-v",
    ]);
    t.is(replay.out.trim(), "pipdu/pdu1/availability online");
    // The compose healthcheck's probe: a retained $SYS topic answers at once.
    const health = await client("mosquitto_sub", [
      ...auth,
      "-t",
      "$SYS/broker/version",
      "-C",
      "1",
      "-W",
      "3",
    ]);
    t.regex(health.out, /^mosquitto version 2\./);
    await broker.stop();
  },
);

run(
  "the compose init step writes a password file Mosquitto accepts, with a second user for Home Assistant",
  async (t) => {
    const dir = tempDir(t);
    const compose = YAML.parse(fs.readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8"), {
      merge: true,
    }) as {
      services: Record<string, { command: string[] }>;
    };
    // Compose turns $$ into $; the paths move from the volume to a temporary directory; chown needs the image's user.
    const script = (compose.services["mosquitto-init"]?.command[0] ?? "")
      .replaceAll("$$", "$")
      .replaceAll("/mosquitto/auth/passwd", path.join(dir, "passwd"))
      .replace(/^\s*chown .*$/m, "");
    const result = spawnSync("/bin/sh", ["-c", script], {
      env: {
        PATH: process.env["PATH"] ?? "",
        PIPDU_MQTT_USERNAME: "pipdu",
        PIPDU_MQTT_PASSWORD: "agent-pw",
        HA_MQTT_USERNAME: "homeassistant",
        HA_MQTT_PASSWORD: "ha-pw",
      },
    });
    t.is(result.status, 0, result.stderr.toString());
    const lines = fs.readFileSync(path.join(dir, "passwd"), "utf8").trim().split("\n");
    t.deepEqual(
      lines.map((l) => l.split(":")[0]),
      ["pipdu", "homeassistant"],
    );
    t.is(fs.statSync(path.join(dir, "passwd")).mode & 0o077, 0, "readable by its owner only");

    const port = await freePort();
    const conf = path.join(dir, "mosquitto.conf");
    const shipped = fs.readFileSync(path.join(ROOT, "deploy/mosquitto/mosquitto.conf"), "utf8");
    fs.writeFileSync(conf, adapt(shipped, dir, [port, await freePort()], path.join(dir, "passwd")));
    await startMosquitto(t, conf, port);
    for (const [user, password] of [
      ["pipdu", "agent-pw"],
      ["homeassistant", "ha-pw"],
    ] as const) {
      const r = await client("mosquitto_pub", [
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-u",
        user,
        "-P",
        password,
        "-t",
        "homeassistant/status",
        "-m",
        "online",
      ]);
      t.is(r.code, 0, `${user}: ${r.out}`);
    }
  },
);

run("the Raspberry Pi conf.d snippet runs inside Debian's packaged mosquitto.conf", async (t) => {
  const dir = tempDir(t);
  const confd = path.join(dir, "conf.d");
  fs.mkdirSync(confd);
  const passwordFile = path.join(dir, "passwd");
  passwd(passwordFile, "pipdu", "pi-pw", true);
  const port = await freePort();
  const snippet = fs.readFileSync(path.join(ROOT, "deploy/mosquitto/pipdu.conf"), "utf8");
  t.regex(snippet, /^set_tcp_nodelay true$/m);
  t.regex(snippet, /^password_file \/etc\/mosquitto\/passwd$/m);
  fs.writeFileSync(path.join(confd, "pipdu.conf"), adapt(snippet, dir, [port], passwordFile));
  // Debian's /etc/mosquitto/mosquitto.conf, with its paths moved into the test directory.
  const main = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(
    main,
    [`persistence true`, `persistence_location ${dir}/`, `include_dir ${confd}`, ""].join("\n"),
  );
  await startMosquitto(t, main, port);
  const ok = await client("mosquitto_pub", [
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-u",
    "pipdu",
    "-P",
    "pi-pw",
    "-t",
    "pipdu/x",
    "-m",
    "1",
  ]);
  t.is(ok.code, 0, ok.out);
  const anonymous = await client("mosquitto_pub", [
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-t",
    "pipdu/x",
    "-m",
    "1",
  ]);
  t.not(anonymous.code, 0);
});
