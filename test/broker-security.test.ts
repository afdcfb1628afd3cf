import { execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import { networkInterfaces } from "node:os";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import test, { type ExecutionContext } from "ava";
import { WebSocket } from "ws";
import { EmbeddedBroker, type BrokerOptions } from "../broker/embedded-broker.ts";
import { setPassword } from "../broker/password-file.ts";
import { testCertificates } from "./helpers/certs.ts";
import { silentLogger } from "../log/logger.ts";
import {
  collectMessages,
  connectClient,
  connectionRefusal,
  nextMessage,
  tempDir,
} from "./helpers/mqtt-clients.ts";

async function startBroker(
  t: ExecutionContext,
  options: Partial<BrokerOptions> = {},
): Promise<{ port: number; wsPort: number | null; tlsPort: number | null }> {
  const broker = new EmbeddedBroker({
    host: "127.0.0.1",
    port: 0,
    wsPort: 0,
    stateDir: null,
    logger: silentLogger(),
    ...options,
  });
  t.teardown(() => broker.stop());
  const address = await broker.start();
  return { port: address.port, wsPort: address.wsPort, tlsPort: address.tlsPort ?? null };
}

/** A password file with alice (readwrite on pipdu/#), viewer (read only) and panel (may only publish set). */
async function usersAndAcl(t: ExecutionContext): Promise<{ passwordFile: string; aclFile: string }> {
  const dir = await tempDir(t);
  const passwordFile = path.join(dir, "passwd");
  const aclFile = path.join(dir, "acl");
  await setPassword(passwordFile, "alice", "alice-pw", 101);
  await setPassword(passwordFile, "viewer", "viewer-pw", 101);
  await setPassword(passwordFile, "panel", "panel-pw", 101);
  await writeFile(
    aclFile,
    [
      "user alice",
      "topic readwrite pipdu/#",
      "user viewer",
      "topic read pipdu/#",
      "user panel",
      "topic write pipdu/+/outlet/+/set",
      "",
    ].join("\n"),
  );
  return { passwordFile, aclFile };
}

function externalIPv4(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === "IPv4" && !a.internal)?.address;
}

test("a wrong password and an unknown user are refused with 'bad username or password'; the right one connects", async (t) => {
  const { port } = await startBroker(t, await usersAndAcl(t));
  const url = `mqtt://127.0.0.1:${port}`;
  for (const [username, password] of [
    ["alice", "wrong"],
    ["mallory", "alice-pw"],
    ["alice", ""],
  ] as const) {
    const refusal = await connectionRefusal(t, url, { username, password });
    t.regex(String(refusal), /bad user ?name or password/i, `${username}/${password}`);
  }
  const client = await connectClient(t, url, { username: "alice", password: "alice-pw" });
  t.true(client.connected);
});

test("a read-only user cannot publish a set command: it is acknowledged and dropped, nobody receives it", async (t) => {
  const { port } = await startBroker(t, await usersAndAcl(t));
  const url = `mqtt://127.0.0.1:${port}`;
  const alice = await connectClient(t, url, { username: "alice", password: "alice-pw" });
  const seen = collectMessages(alice);
  await alice.subscribeAsync("pipdu/#", { qos: 1 });
  const viewer = await connectClient(t, url, { username: "viewer", password: "viewer-pw" });
  await viewer.publishAsync("pipdu/pdu1/outlet/3/set", "OFF", { qos: 1, retain: true });
  t.true(viewer.connected, "as with Mosquitto, the connection stays open");
  const refused = await t.throwsAsync(viewer.subscribeAsync("$pipdu-denied/#", { qos: 1 }));
  t.truthy(refused, "nobody may subscribe to where denied messages go");
  const marker = nextMessage(alice, "pipdu/marker");
  await alice.publishAsync("pipdu/marker", "sync", { qos: 1 });
  await marker;
  t.deepEqual(
    seen.map((m) => m.topic),
    ["pipdu/marker"],
  );
});

test("the panel user may publish set topics but its subscription to state topics is refused", async (t) => {
  const { port } = await startBroker(t, await usersAndAcl(t));
  const url = `mqtt://127.0.0.1:${port}`;
  const alice = await connectClient(t, url, { username: "alice", password: "alice-pw" });
  await alice.subscribeAsync("pipdu/pdu1/outlet/3/set", { qos: 1 });
  const panel = await connectClient(t, url, { username: "panel", password: "panel-pw" });
  const refused = await t.throwsAsync(panel.subscribeAsync("pipdu/pdu1/outlet/3/state", { qos: 1 }));
  t.deepEqual((refused as (Error & { packet?: { granted?: number[] } }) | undefined)?.packet?.granted, [128]);
  const command = nextMessage(alice, "pipdu/pdu1/outlet/3/set");
  await panel.publishAsync("pipdu/pdu1/outlet/3/set", "ON", { qos: 1 });
  t.is((await command).payload, "ON");
});

test("retained messages a user may not read are not replayed to it", async (t) => {
  const files = await usersAndAcl(t);
  await writeFile(
    files.aclFile,
    `${await readFile(files.aclFile, "utf8")}user viewer\ntopic deny pipdu/pdu1/info\n`,
  );
  const { port } = await startBroker(t, files);
  const url = `mqtt://127.0.0.1:${port}`;
  const alice = await connectClient(t, url, { username: "alice", password: "alice-pw" });
  await alice.publishAsync("pipdu/pdu1/info", "{}", { qos: 1, retain: true });
  await alice.publishAsync("pipdu/pdu1/availability", "online", { qos: 1, retain: true });
  const viewer = await connectClient(t, url, { username: "viewer", password: "viewer-pw" });
  const seen = collectMessages(viewer);
  const availability = nextMessage(viewer, "pipdu/pdu1/availability");
  await viewer.subscribeAsync("pipdu/#", { qos: 1 });
  await availability;
  const marker = nextMessage(viewer, "pipdu/marker");
  await alice.publishAsync("pipdu/marker", "sync", { qos: 1 });
  await marker;
  t.deepEqual(seen.map((m) => m.topic).sort(), ["pipdu/marker", "pipdu/pdu1/availability"]);
});

const external = externalIPv4();
/** These need a second, non-loopback address on this machine to connect from. */
const withExternalAddress = external === undefined ? test.skip : test;

withExternalAddress(
  "an anonymous client from a non-loopback address is refused; a user with a password and allowAnonymous are let in",
  async (t) => {
    const address = external ?? "";
    const files = await usersAndAcl(t);
    const closedBroker = await startBroker(t, { ...files, host: "0.0.0.0", wsPort: null });
    const remoteUrl = `mqtt://${address}:${closedBroker.port}`;
    t.regex(String(await connectionRefusal(t, remoteUrl)), /not authori[sz]ed/i);
    t.regex(
      String(await connectionRefusal(t, remoteUrl, { username: "someone" })),
      /bad user ?name or password/i,
    );
    t.true(
      (await connectClient(t, `mqtt://127.0.0.1:${closedBroker.port}`)).connected,
      "anonymous from loopback",
    );
    t.true((await connectClient(t, remoteUrl, { username: "alice", password: "alice-pw" })).connected);

    const openBroker = await startBroker(t, { host: "0.0.0.0", wsPort: null, allowAnonymous: true });
    t.true((await connectClient(t, `mqtt://${address}:${openBroker.port}`)).connected);
  },
);

withExternalAddress("an anonymous WebSocket client from a non-loopback address is refused", async (t) => {
  const address = external ?? "";
  const { wsPort } = await startBroker(t, { host: "0.0.0.0" });
  t.regex(String(await connectionRefusal(t, `ws://${address}:${wsPort ?? 0}`)), /not authori[sz]ed/i);
});

test("an anonymous WebSocket client from loopback is refused: a WebSocket gets no loopback trust", async (t) => {
  const { wsPort, port } = await startBroker(t);
  t.regex(String(await connectionRefusal(t, `ws://127.0.0.1:${wsPort ?? 0}`)), /not authori[sz]ed/i);
  t.true((await connectClient(t, `mqtt://127.0.0.1:${port}`)).connected, "plain TCP from loopback still is");
});

test("a browser origin is refused on the WebSocket listener unless configured; clients without Origin are not browsers", async (t) => {
  const { wsPort } = await startBroker(t, { allowAnonymous: true, wsOrigins: ["http://ha.local:8123"] });
  const url = `ws://127.0.0.1:${wsPort ?? 0}`;
  const upgrade = (origin: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, "mqtt", { headers: { Origin: origin } });
      ws.once("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
      ws.once("open", () => {
        ws.terminate();
        resolve(101);
      });
      ws.once("error", reject);
    });
  t.is(await upgrade("http://evil.example"), 403);
  t.is(await upgrade("http://ha.local:8123"), 101);
  const ha = await connectClient(t, url, { wsOptions: { headers: { Origin: "http://ha.local:8123" } } });
  t.true(ha.connected);
  t.true((await connectClient(t, url)).connected);
});

test("a TLS client that trusts the test CA connects and exchanges messages; one that does not is refused", async (t) => {
  const certs = await testCertificates(t);
  const { tlsPort } = await startBroker(t, {
    ...(await usersAndAcl(t)),
    tls: { port: 0, certFile: certs.cert, keyFile: certs.key },
  });
  const url = `mqtts://127.0.0.1:${tlsPort ?? 0}`;
  const ca = await readFile(certs.ca);
  const client = await connectClient(t, url, { ca, username: "alice", password: "alice-pw" });
  await client.subscribeAsync("pipdu/tls", { qos: 1 });
  const received = nextMessage(client, "pipdu/tls");
  await client.publishAsync("pipdu/tls", "encrypted", { qos: 1 });
  t.is((await received).payload, "encrypted");
  const refusal = await connectionRefusal(t, url, { username: "alice", password: "alice-pw" });
  t.regex(String(refusal), /self.signed|unable to (get|verify)|certificate/i);
});

test("start() rejects a malformed password file or ACL file with a code and the line number", async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, "passwd"), "alice:plain\n");
  await writeFile(path.join(dir, "acl"), "user a\ntopic sometimes x\nbogus\n");
  const logger = silentLogger();
  const withPasswords = new EmbeddedBroker({
    host: "127.0.0.1",
    port: 0,
    wsPort: null,
    stateDir: null,
    logger,
    passwordFile: path.join(dir, "passwd"),
  });
  await t.throwsAsync(withPasswords.start(), { code: "PASSWORD_FILE_INVALID", message: /line 1/ });
  const withAcl = new EmbeddedBroker({
    host: "127.0.0.1",
    port: 0,
    wsPort: null,
    stateDir: null,
    logger,
    aclFile: path.join(dir, "acl"),
  });
  await t.throwsAsync(withAcl.start(), { code: "ACL_FILE_INVALID", message: /line 3/ });
});

const withMosquitto =
  process.env.CI === "true" ||
  (() => {
    try {
      execFileSync("sh", ["-c", "command -v mosquitto"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address !== null ? address.port : 0;
}

(withMosquitto ? test : test.skip)(
  "Mosquitto 2 accepts a password file written by setPassword",
  async (t) => {
    const dir = await tempDir(t);
    const passwordFile = path.join(dir, "passwd");
    await setPassword(passwordFile, "alice", "alice-pw");
    const port = await freePort();
    await writeFile(
      path.join(dir, "mosquitto.conf"),
      `# root: read the 0600 file in the test directory instead of switching to the mosquitto user\nuser root\nlistener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${passwordFile}\n`,
    );
    const mosquitto = spawn("mosquitto", ["-c", path.join(dir, "mosquitto.conf")], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    t.teardown(() => mosquitto.kill());
    await new Promise<void>((resolve, reject) => {
      let log = "";
      mosquitto.stderr.on("data", (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes("running")) resolve();
      });
      mosquitto.once("exit", (code) => reject(new Error(`mosquitto exited ${String(code)}: ${log}`)));
    });
    const url = `mqtt://127.0.0.1:${port}`;
    t.true((await connectClient(t, url, { username: "alice", password: "alice-pw" })).connected);
    t.regex(
      String(await connectionRefusal(t, url, { username: "alice", password: "nope" })),
      /not authori[sz]ed|bad user/i,
    );
  },
);
