// The shipped Mosquitto configurations, run by a real Mosquitto (2.0.11 has no `-t` test mode): the file is
// adapted only where a test must (free ports, temporary paths, the user to run as), started, and probed with
// mosquitto_pub/mosquitto_sub: credentials required, retained messages kept across a restart.
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import test, { type ExecutionContext } from "ava";
import YAML from "yaml";
import { Acl } from "../broker/acl.ts";
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
    if (/^acl_file\s/.test(line)) return `acl_file ${path.join(ROOT, "deploy/mosquitto/pipdu.acl")}`;
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
    passwd(passwordFile, "pipdu-agent", "s3cret", true);
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
    const auth = ["-h", "127.0.0.1", "-p", String(port), "-u", "pipdu-agent", "-P", "s3cret"];
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
  "the compose init step writes a password file Mosquitto accepts, one user per part, with the shipped ACL",
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
        AGENT_MQTT_PASSWORD: "agent-pw",
        PANEL_MQTT_PASSWORD: "panel-pw",
        GATEWAY_MQTT_PASSWORD: "gateway-pw",
        HA_MQTT_PASSWORD: "ha-pw",
        READER_MQTT_PASSWORD: "",
      },
    });
    t.is(result.status, 0, result.stderr.toString());
    const lines = fs.readFileSync(path.join(dir, "passwd"), "utf8").trim().split("\n");
    t.deepEqual(
      lines.map((l) => l.split(":")[0]),
      ["pipdu-agent", "pipdu-panel", "pipdu-gateway", "homeassistant"],
    );
    t.is(fs.statSync(path.join(dir, "passwd")).mode & 0o077, 0, "readable by its owner only");

    const port = await freePort();
    const conf = path.join(dir, "mosquitto.conf");
    const shipped = fs.readFileSync(path.join(ROOT, "deploy/mosquitto/mosquitto.conf"), "utf8");
    fs.writeFileSync(conf, adapt(shipped, dir, [port, await freePort()], path.join(dir, "passwd")));
    await startMosquitto(t, conf, port);
    // Home Assistant announces itself on homeassistant/status; the agent reads it (so it may too).
    for (const [user, password] of [
      ["pipdu-agent", "agent-pw"],
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
  passwd(passwordFile, "pipdu-agent", "pi-pw", true);
  const port = await freePort();
  const snippet = fs.readFileSync(path.join(ROOT, "deploy/mosquitto/pipdu.conf"), "utf8");
  t.regex(snippet, /^set_tcp_nodelay true$/m);
  t.regex(snippet, /^password_file \/etc\/mosquitto\/passwd$/m);
  t.regex(snippet, /^acl_file \/etc\/mosquitto\/pipdu\.acl$/m);
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
    "pipdu-agent",
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

/** Who may publish what under the shipped ACL, as each part's user on a real Mosquitto. */
run(
  "the ACL lets only pipdu-agent speak for a PDU; panel, gateway and Home Assistant only send commands",
  async (t) => {
    const dir = tempDir(t);
    const passwordFile = path.join(dir, "passwd");
    const users = ["pipdu-agent", "pipdu-panel", "pipdu-gateway", "homeassistant", "pipdu-reader"];
    users.forEach((user, i) => passwd(passwordFile, user, `${user}-pw`, i === 0));
    const port = await freePort();
    const snippet = fs.readFileSync(path.join(ROOT, "deploy/mosquitto/pipdu.conf"), "utf8");
    const conf = path.join(dir, "mosquitto.conf");
    fs.writeFileSync(conf, adapt(snippet, dir, [port], passwordFile));
    const broker = await startMosquitto(t, conf, port);
    const as = (user: string) => ["-h", "127.0.0.1", "-p", String(port), "-u", user, "-P", `${user}-pw`];

    // Everything that arrives, as the agent sees it, until the agent's own closing message.
    const seen: string[] = [];
    const watcher = spawn("stdbuf", [
      "-oL",
      "mosquitto_sub",
      ...as("pipdu-agent"),
      "-t",
      "pipdu/#",
      "-t",
      "homeassistant/#",
      "-v",
      "-d",
    ]);
    t.teardown(() => watcher.kill());
    let buffer = "";
    let subscribed: () => void = () => undefined;
    let finished: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (subscribed = resolve));
    const done = new Promise<void>((resolve) => (finished = resolve));
    watcher.stdout.on("data", (d: Buffer) => {
      buffer += d.toString();
      if (buffer.includes("SUBACK")) subscribed();
      seen.push(
        ...buffer
          .split("\n")
          .slice(0, -1)
          .filter((l) => l.startsWith("pipdu/") || l.startsWith("homeassistant/")),
      );
      buffer = buffer.slice(buffer.lastIndexOf("\n") + 1);
      if (seen.includes("pipdu/end/of/test end")) finished();
    });
    await ready;

    const attempts: [string, string, boolean][] = [
      ["pipdu-agent", "pipdu/pdu1/availability", true],
      ["pipdu-agent", "pipdu/response/gw1/42", true],
      ["pipdu-agent", "homeassistant/device/pipdu_pdu1/config", true],
      ["pipdu-panel", "pipdu/pdu1/outlet/3/set", true],
      ["pipdu-panel", "pipdu/pdu1/set", true],
      ["pipdu-panel", "pipdu/pdu1/outlet/3/power_on_behavior/set", true],
      ["pipdu-panel", "pipdu/pdu1/availability", false],
      ["pipdu-panel", "pipdu/pdu1/outlet/3/state", false],
      ["pipdu-panel", "pipdu/pdu1/result", false],
      ["pipdu-panel", "pipdu/response/gw1/42", false],
      ["pipdu-panel", "homeassistant/device/pipdu_pdu1/config", false],
      ["pipdu-gateway", "pipdu/pdu1/outlet/3/set", true],
      ["pipdu-gateway", "pipdu/pdu1/info", false],
      ["homeassistant", "homeassistant/status", true],
      ["homeassistant", "pipdu/pdu1/outlet/3/set", true],
      ["homeassistant", "pipdu/pdu1/availability", false],
      ["homeassistant", "homeassistant/device/pipdu_pdu1/config", false],
      ["pipdu-reader", "pipdu/pdu1/outlet/3/set", false],
      ["pipdu-reader", "homeassistant/status", false],
    ];
    // One after the other: each mosquitto_pub has its PUBACK before the next starts, so when the agent's
    // closing message arrives every earlier publish has been either delivered or refused.
    for (const [user, topic] of attempts) {
      const r = await client("mosquitto_pub", [...as(user), "-q", "1", "-t", topic, "-m", user]);
      t.is(r.code, 0, `${user} ${topic}: ${r.out}`);
    }
    await client("mosquitto_pub", [...as("pipdu-agent"), "-q", "1", "-t", "pipdu/end/of/test", "-m", "end"]);
    await done;
    for (const [user, topic, allowed] of attempts)
      t.is(
        seen.includes(`${topic} ${user}`),
        allowed,
        `${user} ${allowed ? "may" : "may not"} publish ${topic}`,
      );

    // The read-only user reads piPDU's retained state.
    await client("mosquitto_pub", [
      ...as("pipdu-agent"),
      "-q",
      "1",
      "-r",
      "-t",
      "pipdu/pdu1/availability",
      "-m",
      "online",
    ]);
    const read = await client("mosquitto_sub", [
      ...as("pipdu-reader"),
      "-t",
      "pipdu/#",
      "-C",
      "1",
      "-W",
      "5",
      "-v",
    ]);
    t.is(read.out.trim(), "pipdu/pdu1/availability online");
    await broker.stop();
    t.notRegex(broker.output(), /Error|Unknown configuration/i, broker.output());
  },
);

test("the embedded broker reads the same ACL file and decides the same way", (t) => {
  const acl = Acl.parse(fs.readFileSync(path.join(ROOT, "deploy/mosquitto/pipdu.acl"), "utf8"));
  const as = (username: string) => ({ username, clientId: `${username}-1` });
  t.true(acl.canPublish(as("pipdu-agent"), "pipdu/pdu1/availability"));
  t.true(acl.canPublish(as("pipdu-agent"), "homeassistant/device/pipdu_pdu1/config"));
  t.true(acl.canPublish(as("pipdu-panel"), "pipdu/pdu1/outlet/3/set"));
  t.true(acl.canPublish(as("homeassistant"), "homeassistant/status"));
  t.false(acl.canPublish(as("pipdu-panel"), "pipdu/pdu1/availability"));
  t.false(acl.canPublish(as("pipdu-gateway"), "pipdu/response/pipdu-gateway-1/1"));
  t.false(acl.canPublish(as("homeassistant"), "homeassistant/device/pipdu_pdu1/config"));
  t.false(acl.canPublish(as("pipdu-reader"), "pipdu/pdu1/outlet/3/set"));
  t.true(acl.canRead(as("pipdu-reader"), "pipdu/pdu1/outlet/3/state"));
  t.true(acl.canRead(as("pipdu-gateway"), "pipdu/response/pipdu-gateway-1/7"));
});
