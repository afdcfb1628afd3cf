// The PDUDaemon API on one port, against a real broker and a pdu-agent on a simulated PDU: the exact bytes
// pduclient sends and expects, the HTTP requests of pduclient -H and labgrid, and every kind of bad input.
import test, { type ExecutionContext } from "ava";
import {
  BROKERS,
  startAgent,
  startBroker,
  testSettings,
  type BrokerKind,
  type InProcessAgent,
} from "./helpers/system.ts";
import { collectMessages, connectClient } from "./helpers/mqtt-clients.ts";
import { pduclientTcp, rawHttp, rawTcp, requestsGet, startGateway, waitForPdu } from "./gateway-harness.ts";
import type { Settings } from "../config/settings.ts";

async function system(t: ExecutionContext, kind: BrokerKind, patch: (s: Settings) => Settings = (s) => s) {
  const broker = await startBroker(t, kind);
  const settings = patch(
    testSettings(t, {
      mqtt: { url: broker.url },
      outlets: [{}, {}, {}, {}, { name: "NAS" }, {}, {}, { name: "Core switch", protected: true }],
    }),
  );
  const agent = await startAgent(t, settings);
  const gw = await startGateway(t, settings, {
    quietMs: 30,
    requestDeadlineMs: 1500,
    headersTimeoutMs: 1500,
  });
  await waitForPdu(gw.base, "pdu1", 16);
  const watcher = await connectClient(t, broker.url);
  await watcher.subscribeAsync(["pipdu/pdu1/outlet/+/state", "pipdu/pdu1/result"], { qos: 1 });
  const seen = collectMessages(watcher);
  return { broker, agent, gw, seen };
}

async function relays(agent: InProcessAgent): Promise<boolean[]> {
  return agent.sim.controller.readRelays();
}

async function settled<T>(check: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

for (const kind of BROKERS) {
  test(`[${kind}] pduclient TCP "pdu1 03 reboot 1" (no newline) gets exactly "ack\\n" after an atomic cycle of outlet 3`, async (t) => {
    const { agent, gw, seen } = await system(t, kind);
    t.is((await pduclientTcp(gw.pdudaemonPort, "pdu1 3 on")).toString(), "ack\n");
    await settled(() => seen.find((m) => m.topic === "pipdu/pdu1/result"), "the on result");
    seen.length = 0;
    const reply = await pduclientTcp(gw.pdudaemonPort, "pdu1 03 reboot 1");
    t.is(reply.toString("latin1"), "ack\n");
    // The reply came after the agent's result: the cycle already ran off then on.
    const result = await settled(
      () => seen.find((m) => m.topic === "pipdu/pdu1/result"),
      "result seen by the watcher",
    );
    t.like(JSON.parse(result.payload), { outlet: 3, command: "cycle", status: "ok", state: "ON" });
    const states = seen.filter((m) => m.topic === "pipdu/pdu1/outlet/3/state").map((m) => m.payload);
    t.deepEqual(states.slice(-2), ["OFF", "ON"]);
    t.true((await relays(agent))[2]);
  });

  test(`[${kind}] pduclient TCP without a delay ("pdu1 5 on") and with a name as port; the client never half-closes`, async (t) => {
    const { agent, gw } = await system(t, kind);
    t.is((await pduclientTcp(gw.pdudaemonPort, "pdu1 5 on")).toString(), "ack\n");
    t.true((await relays(agent))[4]);
    t.is((await pduclientTcp(gw.pdudaemonPort, "pdu1 NAS off")).toString(), "ack\n");
    t.false((await relays(agent))[4]);
  });

  test(`[${kind}] pduclient -H and labgrid HTTP requests switch and answer 200 "OK - accepted request"`, async (t) => {
    const { agent, gw } = await system(t, kind);
    const port = gw.pdudaemonPort;
    // pduclient -H --hostname pdu1 --port 08? no: outlet 8 is protected; use 4.
    let response = await rawHttp(port, requestsGet(port, "/power/control/on?hostname=pdu1&port=04"));
    t.regex(response, /^HTTP\/1\.1 200 OK\r\n/);
    t.true(response.endsWith("\r\n\r\nOK - accepted request\n"));
    t.true((await relays(agent))[3]);
    // labgrid PDUDaemonDriver.cycle(): reboot with &delay=ceil(delay)
    response = await rawHttp(port, requestsGet(port, "/power/control/reboot?hostname=pdu1&port=4&delay=1"));
    t.regex(response, /^HTTP\/1\.1 200 OK\r\n[\s\S]*OK - accepted request\n$/);
    response = await rawHttp(port, requestsGet(port, "/power/control/off?hostname=pdu1&port=4"));
    t.regex(response, /^HTTP\/1\.1 200 /);
    t.false((await relays(agent))[3]);
    // The same API answers on the web port too.
    const viaWeb = await fetch(`${gw.base}/power/control/on?hostname=pdu1&port=4`);
    t.is(viaWeb.status, 200);
    t.is(await viaWeb.text(), "OK - accepted request\n");
  });

  test(`[${kind}] GET /power/status gives state and power of one outlet or the whole PDU`, async (t) => {
    const { agent, gw } = await system(t, kind);
    await fetch(`${gw.base}/power/control/on?hostname=pdu1&port=3`);
    t.true((await relays(agent))[2]);
    const one = (await (
      await fetch(`http://127.0.0.1:${gw.pdudaemonPort}/power/status?hostname=pdu1&port=03`)
    ).json()) as Record<string, unknown>;
    t.like(one, { hostname: "pdu1", port: 3, number: 3, state: "ON", online: true });
    t.is(typeof one["power"], "number");
    const all = (await (await fetch(`${gw.base}/power/status?hostname=pdu1`)).json()) as {
      outlets: unknown[];
    };
    t.is(all.outlets.length, 16);
    const missing = await fetch(`${gw.base}/power/status?hostname=nope&port=1`);
    t.is(missing.status, 404);
  });
}

const kind = BROKERS[0] ?? "embedded";

test("bad PDUDaemon HTTP requests answer 503 with the reason and switch nothing", async (t) => {
  const { agent, gw } = await system(t, kind);
  const before = await relays(agent);
  const cases: [string, RegExp][] = [
    ["/power/control/on?hostname=ghost&port=1", /no PDU "ghost" on the bus; known: pdu1/],
    ["/power/control/on?hostname=pdu1&port=17", /has no outlet 17; outlets are 1 to 16/],
    ["/power/control/on?hostname=pdu1&port=Toaster", /no outlet named "Toaster"/],
    ["/power/control/dance?hostname=pdu1&port=1", /unknown command "dance"; use on, off or reboot/],
    ["/power/control/reboot?hostname=pdu1&port=1&delay=abc", /delay "abc" is not a number/],
    ["/power/control/reboot?hostname=pdu1&port=1&delay=-1", /delay "-1" is not a number/],
    ["/power/control/reboot?hostname=pdu1&port=1&delay=99999", /invalid_delay: .*from 0 to 3600/],
    ["/power/control/on?port=1", /missing hostname/],
    ["/power/control/on?hostname=pdu1", /missing port/],
    ["/power/control/on?alias=dut1", /unknown alias "dut1"/],
    ["/power/control/on?alias=dut1&hostname=pdu1&port=1", /either alias or hostname and port/],
    ["/power/control/off?hostname=pdu1&port=8", /protected_outlet/],
  ];
  for (const [path, reason] of cases) {
    const response = await fetch(`http://127.0.0.1:${gw.pdudaemonPort}${path}`);
    t.is(response.status, 503, path);
    t.regex(await response.text(), reason, path);
  }
  const unknownPath = await fetch(`http://127.0.0.1:${gw.pdudaemonPort}/power/nothing`);
  t.is(unknownPath.status, 404);
  const elsewhere = await fetch(`http://127.0.0.1:${gw.pdudaemonPort}/no/such/page`);
  t.is(elsewhere.status, 404);
  t.deepEqual(await relays(agent), before);
});

test("bad TCP lines get a nack line and switch nothing; the listener keeps serving", async (t) => {
  const { agent, gw } = await system(t, kind);
  const port = gw.pdudaemonPort;
  const before = await relays(agent);
  const nack = async (line: string | Buffer, reason: RegExp): Promise<void> => {
    const reply = (await pduclientTcp(port, line)).toString("utf8");
    t.regex(reply, /^nack: .+\n$/, String(line));
    t.regex(reply, reason, String(line));
  };
  await nack("pdu1 3", /expected "<hostname> <port> <command> \[<delay>\]", got 2 words/);
  await nack("pdu1 3 reboot 5 extra", /got 5 words/);
  await nack("ghost 3 on", /no PDU "ghost"/);
  await nack("pdu1 99 on", /no outlet 99/);
  await nack("pdu1 3 explode", /unknown command "explode"/);
  await nack("pdu1 3 reboot -5", /delay "-5" is not a number/);
  await nack("pdu1 3 reboot five", /delay "five" is not a number/);
  await nack(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x80]), /expected|unknown|no PDU/);
  // An endless line: the listener stops reading after 512 bytes and says so.
  const endless = await rawTcp(port, [Buffer.alloc(4096, "a"), 10, Buffer.alloc(65536, "b")]);
  t.regex(endless.toString(), /^nack: request longer than 512 bytes\n$/);
  // A trailing newline or a half-close (other clients) ends the line as well.
  t.is((await rawTcp(port, [Buffer.from("pdu1 2 on\n")])).toString(), "ack\n");
  t.is((await rawTcp(port, [Buffer.from("pdu1 2 off")], true)).toString(), "ack\n");
  t.deepEqual(await relays(agent), before);
});

test("slow and half-open connections are cut off without blocking anyone else", async (t) => {
  const { agent, gw } = await system(t, kind);
  const port = gw.pdudaemonPort;
  // A slowloris on the line protocol, another on HTTP headers, and a connection that never says anything.
  const slowLine = rawTcp(port, [
    Buffer.from("p"),
    400,
    Buffer.from("d"),
    400,
    Buffer.from("u"),
    400,
    Buffer.from("1"),
    400,
    Buffer.from(" "),
    400,
  ]);
  const slowHttp = rawTcp(port, [
    Buffer.from("GET /power/control/on?hostname=pdu1&port=6 HTTP/1.1\r\n"),
    400,
    Buffer.from("X-A: 1\r\n"),
    400,
    Buffer.from("X-B: 1\r\n"),
    400,
    Buffer.from("X-C: 1\r\n"),
    400,
    Buffer.from("X-D: 1\r\n"),
    400,
    Buffer.from("X-E: 1\r\n"),
  ]);
  const silent = rawTcp(port, [3000]);
  const silentPrefix = rawTcp(port, [Buffer.from("GE"), 3000]);
  // Meanwhile others are served.
  t.is((await pduclientTcp(port, "pdu1 7 on")).toString(), "ack\n");
  t.is((await fetch(`http://127.0.0.1:${port}/power/control/off?hostname=pdu1&port=7`)).status, 200);
  // With no terminator, a pause ends the line: a byte-at-a-time client gets a clear refusal, not a hang.
  t.regex(
    (await slowLine).toString(),
    /^nack: expected "<hostname> <port> <command> \[<delay>\]", got 1 word\n$/,
  );
  t.regex((await slowHttp).toString(), /^HTTP\/1\.1 408 /);
  t.is((await silent).toString(), "nack: request not complete in time\n");
  t.regex((await silentPrefix).toString(), /^nack: request not complete in time\n$/);
  t.false((await relays(agent))[5]);
  t.is((await pduclientTcp(port, "pdu1 7 on")).toString(), "ack\n");
});

test("with a token, switching needs it (header, query or in the hostname) and reading stays open", async (t) => {
  const { agent, gw } = await system(t, kind, (s) => ({
    ...s,
    gateway: { ...s.gateway, token: "s3cret", aliases: { dut1: { hostname: "pdu1", port: 6 } } },
  }));
  const port = gw.pdudaemonPort;
  t.regex((await pduclientTcp(port, "pdu1 6 on")).toString(), /^nack: this gateway needs a token/);
  t.regex(
    (await pduclientTcp(port, "pdu1&token=wrong 6 on")).toString(),
    /^nack: this gateway needs a token/,
  );
  let response = await fetch(`http://127.0.0.1:${port}/power/control/on?hostname=pdu1&port=6`);
  t.is(response.status, 401);
  t.false((await relays(agent))[5]);
  t.is((await pduclientTcp(port, "pdu1&token=s3cret 6 on")).toString(), "ack\n");
  t.true((await relays(agent))[5]);
  // labgrid: PDUDaemonPort pdu: "pdu1&token=s3cret" lands in the query as-is.
  response = await fetch(`http://127.0.0.1:${port}/power/control/off?hostname=pdu1&token=s3cret&port=6`);
  t.is(response.status, 200);
  response = await fetch(`http://127.0.0.1:${port}/power/control/on?alias=dut1`, {
    headers: { authorization: "Bearer s3cret" },
  });
  t.is(response.status, 200);
  t.true((await relays(agent))[5]);
  t.is((await fetch(`http://127.0.0.1:${port}/power/status?hostname=pdu1&port=6`)).status, 200);
  t.is((await fetch(`${gw.base}/api/pdus`)).status, 200);
  const rest = await fetch(`${gw.base}/api/pdus/pdu1/outlets/6`, {
    method: "POST",
    body: '{"action":"off"}',
  });
  t.is(rest.status, 401);
  t.true((await relays(agent))[5]);
});

test("a PDU that goes offline is refused after a short wait for its agent, not after the request timeout", async (t) => {
  const { agent, gw } = await system(t, kind);
  await agent.stop();
  for (let i = 0; i < 100; i++) {
    const pdus = (await (await fetch(`${gw.base}/api/pdus`)).json()) as { online: boolean }[];
    if (pdus[0]?.online === false) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  const response = await fetch(`${gw.base}/power/control/on?hostname=pdu1&port=1`);
  t.is(response.status, 503);
  t.regex(await response.text(), /PDU "pdu1" is offline and did not answer; nothing was switched/);
  t.regex((await pduclientTcp(gw.pdudaemonPort, "pdu1 1 on")).toString(), /^nack: PDU "pdu1" is offline/);
});
