// Who can reach the switching surfaces, by default: the gateway listens on loopback unless a token exists
// (configured, saved, or generated when it is asked to listen further); the simulated panel needs the token
// and never runs on PDU hardware; tokens never reach the log; live streams are capped per address.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import test, { type ExecutionContext } from "ava";
import winston from "winston";
import type { Settings } from "../../config/settings.ts";
import { Gateway } from "../../gateway/gateway.ts";
import { MAX_CLIENTS_PER_ADDRESS } from "../../gateway/live-events.ts";
import { gatewayAccess, TOKEN_FILE } from "../../lib/gateway-access.ts";
import type { Logger } from "../../log/logger.ts";
import { silentLogger } from "../../log/logger.ts";
import { PanelAgent } from "../../panel-agent/agent.ts";
import { pduclientTcp } from "../gateway-harness.ts";
import { freePort, startBroker, testSettings } from "../helpers/system.ts";

function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = winston.createLogger({
    level: "debug",
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston's types split Transport
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

async function gateway(
  t: ExecutionContext,
  patch: Partial<Settings["gateway"]>,
  logger: Logger = silentLogger(),
) {
  const broker = await startBroker(t, "embedded");
  const base = testSettings(t, { mqtt: { url: broker.url } });
  const settings: Settings = {
    ...base,
    http: { port: 0 },
    pdudaemon: { port: 0 },
    gateway: { ...base.gateway, ...patch },
  };
  const gw = new Gateway({ settings, logger });
  const address = await gw.start();
  t.teardown(() => gw.stop());
  return { settings, address };
}

function externalAddress(): string | null {
  for (const list of Object.values(os.networkInterfaces()))
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return null;
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

test("by default (no token) the gateway listens on loopback only", async (t) => {
  const { address, settings } = await gateway(t, {});
  t.is(settings.gateway.host, "auto");
  t.is(address.host, "127.0.0.1");
  t.true(await reachable("127.0.0.1", address.httpPort));
  const external = externalAddress();
  if (external === null) return t.log("no external interface here: reachability from outside not checked");
  t.false(await reachable(external, address.httpPort), `not reachable on ${external}`);
  t.false(await reachable(external, address.pdudaemonPort));
});

test("with a token configured, the default host is every interface", async (t) => {
  const { address } = await gateway(t, { token: "s3cret-token" });
  t.is(address.host, "0.0.0.0");
});

test("asked to listen beyond loopback with no token, a token is generated, saved, printed once and used", async (t) => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "pipdu-access-"));
  t.teardown(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  const printed: string[] = [];
  const first = await gatewayAccess({ stateDir, gateway: { host: "0.0.0.0", token: null } }, (l) =>
    printed.push(l),
  );
  t.is(first.origin, "generated");
  t.regex(first.token ?? "", /^[A-Za-z0-9_-]{32}$/);
  t.is(fs.readFileSync(path.join(stateDir, TOKEN_FILE), "utf8").trim(), first.token ?? "-");
  t.is(fs.statSync(path.join(stateDir, TOKEN_FILE)).mode & 0o777, 0o600);
  t.is(printed.length, 1);
  t.true(printed[0]?.includes(first.token ?? "-"));
  const second = await gatewayAccess({ stateDir, gateway: { host: "0.0.0.0", token: null } }, (l) =>
    printed.push(l),
  );
  t.deepEqual([second.token, second.origin, printed.length], [first.token, "state", 1]);
  const auto = await gatewayAccess({ stateDir, gateway: { host: "auto", token: null } });
  t.is(auto.host, "0.0.0.0", "a saved token opens the default host");
});

test("a token in a malformed PDUDaemon TCP line never reaches the log", async (t) => {
  const { logger, lines } = capturingLogger();
  const { address } = await gateway(t, { token: "s3cret-token", host: "127.0.0.1" }, logger);
  const reply = await pduclientTcp(address.pdudaemonPort, "pdu1&token=s3cret-token 1");
  t.regex(reply.toString(), /^nack: /);
  const bad = await pduclientTcp(address.pdudaemonPort, "pdu1&token=s3cret-token 1 dance");
  t.regex(bad.toString(), /^nack: /);
  const log = lines.join("");
  t.regex(log, /token=\*\*\*/);
  t.notRegex(log, /s3cret/);
});

test(`live-event streams are capped at ${MAX_CLIENTS_PER_ADDRESS} per address`, async (t) => {
  const { address } = await gateway(t, { host: "127.0.0.1" });
  const controllers: AbortController[] = [];
  // Held until the end: fetch closes the connection of a response that is garbage collected unread.
  const responses: Response[] = [];
  t.teardown(() => {
    for (const c of controllers) c.abort();
  });
  const open = async (): Promise<number> => {
    const c = new AbortController();
    controllers.push(c);
    const response = await fetch(`http://127.0.0.1:${address.httpPort}/api/events`, { signal: c.signal });
    responses.push(response);
    return response.status;
  };
  for (let i = 0; i < MAX_CLIENTS_PER_ADDRESS; i++) t.is(await open(), 200);
  t.is(await open(), 503);
  controllers[0]?.abort();
  let status = 503;
  for (let i = 0; i < 100 && status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 20));
    status = await open();
  }
  t.is(status, 200, "a closed stream frees its slot");
});

async function panel(t: ExecutionContext, patch: (s: Settings) => Settings) {
  const broker = await startBroker(t, "embedded");
  const port = await freePort();
  const settings = patch(testSettings(t, { mqtt: { url: broker.url }, panel: { driver: "sim", port } }));
  const agent = new PanelAgent({ settings, logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());
  return { agent, base: `http://127.0.0.1:${port}` };
}

test("with a gateway token set, the simulated panel's press API needs it", async (t) => {
  const { base } = await panel(t, (s) => ({ ...s, gateway: { ...s.gateway, token: "s3cret-token" } }));
  const without = await fetch(`${base}/api/buttons/1/press`, { method: "POST", body: '{"ms":10}' });
  t.is(without.status, 401);
  const wrong = await fetch(`${base}/api/buttons/1/press`, {
    method: "POST",
    headers: { authorization: "Bearer nope" },
    body: '{"ms":10}',
  });
  t.is(wrong.status, 401);
  const right = await fetch(`${base}/api/buttons/1/press`, {
    method: "POST",
    headers: { authorization: "Bearer s3cret-token" },
    body: '{"ms":10}',
  });
  t.is(right.status, 200);
  t.is((await fetch(`${base}/api/panel`)).status, 200, "reading stays open");
});

test("the simulated panel's page never starts on PDU hardware", async (t) => {
  const { agent, base } = await panel(t, (s) => ({ ...s, hardware: "i2c" }));
  t.is(agent.simUrl, null);
  await t.throwsAsync(fetch(`${base}/api/panel`));
});
