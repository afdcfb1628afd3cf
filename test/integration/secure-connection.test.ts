// The agent on a locked-down broker: TLS with a private CA, a password file and an ACL. Secrets stay secret.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import test from "ava";
import { setPassword } from "../../broker/password-file.ts";
import { testCertificates } from "../helpers/certs.ts";
import { collectMessages, connectClient } from "../helpers/mqtt-clients.ts";
import { eventually, freePort, ROOT, spawnPipdu, tempDir, waitForPort } from "../helpers/system.ts";

const SECRET = "s3cret-Pdu-Pa55";

test("the agent connects over TLS with credentials, works, and never prints its password", async (t) => {
  const dir = tempDir(t);
  const certs = await testCertificates(t);
  const passwordFile = path.join(dir, "passwd");
  const aclFile = path.join(dir, "acl");
  await setPassword(passwordFile, "rack1", SECRET, 101);
  await setPassword(passwordFile, "ops", "ops-pw", 101);
  // The agent needs its own tree and Home Assistant discovery.
  await writeFile(
    aclFile,
    "user rack1\ntopic readwrite pipdu/#\ntopic readwrite homeassistant/#\nuser ops\ntopic readwrite pipdu/#\n",
  );
  const [port, tlsPort] = [await freePort(), await freePort()];
  const brokerEnv = {
    PIPDU_STATE_DIR: path.join(dir, "broker"),
    PIPDU_BROKER_PORT: String(port),
    PIPDU_BROKER_WS_PORT: "0",
    PIPDU_BROKER_PASSWORD_FILE: passwordFile,
    PIPDU_BROKER_ACL_FILE: aclFile,
    PIPDU_BROKER_TLS_PORT: String(tlsPort),
    PIPDU_BROKER_TLS_CERT_FILE: certs.cert,
    PIPDU_BROKER_TLS_KEY_FILE: certs.key,
  };
  spawnPipdu(t, ["broker"], brokerEnv);
  await waitForPort(tlsPort);

  const agentEnv = {
    PIPDU_STATE_DIR: path.join(dir, "agent"),
    PIPDU_HARDWARE: "sim",
    PIPDU_MQTT_URL: `mqtts://127.0.0.1:${tlsPort}`,
    PIPDU_MQTT_CA_FILE: certs.ca,
    PIPDU_MQTT_USERNAME: "rack1",
    PIPDU_MQTT_PASSWORD: SECRET,
    PIPDU_LOG_LEVEL: "debug",
  };
  const agent = spawnPipdu(t, ["pdu"], agentEnv);
  const ops = await connectClient(t, `mqtt://127.0.0.1:${port}`, {
    protocolVersion: 4,
    username: "ops",
    password: "ops-pw",
  });
  const seen = collectMessages(ops);
  await ops.subscribeAsync("pipdu/pdu1/#", { qos: 1 });
  t.teardown(() => {
    if (!seen.some((m) => m.payload === "online")) console.log(agent.output());
  });
  await eventually("agent online over TLS", () =>
    seen.some((m) => m.topic === "pipdu/pdu1/availability" && m.payload === "online") ? true : undefined,
  );
  await ops.publishAsync("pipdu/pdu1/outlet/3/set", '{"state":"ON","transaction":"tls-1"}', { qos: 1 });
  const result = await eventually("result", () => seen.find((m) => m.topic === "pipdu/pdu1/result")?.payload);
  t.like(JSON.parse(result), { status: "ok", state: "ON", transaction: "tls-1" });
  t.regex(agent.output(), /connected to mqtts:\/\/127\.0\.0\.1/);
  t.false(agent.output().includes(SECRET), "the password is not in the agent's log");

  const printed = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(ROOT, "bin/pipdu.js"), "config", "print"],
      { env: { ...process.env, ...agentEnv } },
      (err, stdout) => {
        if (err) reject(new Error(err.message));
        else resolve(stdout);
      },
    );
  });
  t.true(printed.includes(`"password": "[Sensitive]"`), "the password is shown as masked");
  t.false(printed.includes(SECRET), "config print masks the password");
});

test("the agent with a wrong password keeps retrying and never comes online", async (t) => {
  const dir = tempDir(t);
  const passwordFile = path.join(dir, "passwd");
  await setPassword(passwordFile, "rack1", SECRET, 101);
  const port = await freePort();
  spawnPipdu(t, ["broker"], {
    PIPDU_STATE_DIR: dir,
    PIPDU_BROKER_PORT: String(port),
    PIPDU_BROKER_WS_PORT: "0",
    PIPDU_BROKER_PASSWORD_FILE: passwordFile,
    PIPDU_BROKER_ALLOW_ANONYMOUS: "false",
  });
  await waitForPort(port);
  const agent = spawnPipdu(t, ["pdu"], {
    PIPDU_STATE_DIR: path.join(dir, "a"),
    PIPDU_HARDWARE: "sim",
    PIPDU_MQTT_URL: `mqtt://127.0.0.1:${port}`,
    PIPDU_MQTT_USERNAME: "rack1",
    PIPDU_MQTT_PASSWORD: "wrong-one",
  });
  await eventually("a refusal in the log", () =>
    /not authori[sz]ed|bad user ?name or password/i.test(agent.output()) ? true : undefined,
  );
  t.is(agent.exitCode, null, "still running, still retrying");
  t.false(agent.output().includes("wrong-one"));
});

test("pipdu passwd writes a user whose password the broker accepts", async (t) => {
  const { verifyPassword, loadPasswordFile } = await import("../../broker/password-file.ts");
  const file = path.join(tempDir(t), "passwd");
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, [path.join(ROOT, "bin/pipdu.js"), "passwd", file, "panel"], {
    stdio: ["pipe", "ignore", "pipe"],
  });
  child.stdin.end("panel-secret\n");
  const code = await new Promise((resolve) => child.once("close", resolve));
  t.is(code, 0);
  const stored = (await loadPasswordFile(file)).get("panel") ?? "";
  t.true(await verifyPassword(stored, "panel-secret"));
  t.false(await verifyPassword(stored, "wrong"));
});
