// Fuzz the gateway's ports: random REST and PDUDaemon HTTP requests, raw bytes on the HTTP port, random
// PDUDaemon TCP lines. The gateway and the agent stay up, no request gets a 500, and no outlet changes
// unless the agent announced it with an ok result.
import test from "ava";
import { pduclientTcp, rawTcp, waitForPdu } from "./gateway-harness.ts";
import {
  allStates,
  maskToStates,
  observe,
  relayTruth,
  results,
  seedFromEnv,
  seededRandom,
  setRelayTruth,
  sleep,
  startAgentProcess,
  waitOnline,
} from "./helpers/faults.ts";
import { eventually, freePort, spawnPipdu, startBroker, tempDir } from "./helpers/system.ts";

const REQUESTS = Number(process.env["PIPDU_FUZZ_REQUESTS"] ?? 1500);
const INITIAL = (1 << 2) | (1 << 7) | (1 << 12);
type Rand = () => number;
const pick = <X>(r: Rand, xs: readonly X[]): X => xs[Math.floor(r() * xs.length)] as X;

const JUNK = [
  "",
  "0",
  "17",
  "-1",
  "1.5",
  "%00",
  "%ZZ",
  "%2F",
  "..",
  "x".repeat(3000),
  "１",
  "\u00e9",
  "pdu1",
  "3",
];
function junk(r: Rand): string {
  return r() < 0.5
    ? pick(r, JUNK)
    : encodeURIComponent(
        String.fromCharCode(
          ...Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 0x2fff)),
        ),
      );
}

function request(r: Rand): { method: string; path: string; body?: string } {
  const method = pick(r, ["GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "FOO"]);
  const outlet = r() < 0.5 ? String(1 + Math.floor(r() * 16)) : junk(r);
  const cmd = pick(r, ["on", "off", "reboot", "ON", "cycle", junk(r)]);
  const path = pick(r, [
    `/api/pdus/pdu1/outlets/${outlet}`,
    `/api/pdus/${junk(r)}/outlets/${outlet}`,
    `/api/pdus/${junk(r)}`,
    `/api/${junk(r)}`,
    `/power/control/${cmd}?hostname=pdu1&port=${outlet}${r() < 0.3 ? `&delay=${junk(r)}` : ""}`,
    `/power/control/${cmd}?hostname=${junk(r)}&port=${outlet}&port=${junk(r)}`,
    `/power/control/${cmd}?alias=${junk(r)}`,
    `/power/control/${cmd}`,
    "/metrics",
    "/healthz",
    `/${junk(r)}`,
    "/../../../etc/passwd",
    `/static/${junk(r)}`,
  ]);
  const body = pick(r, [
    undefined,
    '{"state":"ON"}',
    '{"action":"cycle","delay":0}',
    '{"state":"MAYBE"}',
    "{",
    "[]",
    "null",
    '{"__proto__":{"state":"ON"}}',
    "x".repeat(70_000),
    Buffer.from(Array.from({ length: 50 }, () => Math.floor(r() * 256))).toString("latin1"),
  ]);
  return method === "GET" || method === "HEAD" || body === undefined
    ? { method, path }
    : { method, path, body };
}

function tcpLine(r: Rand): Buffer {
  const x = r();
  if (x < 0.3) return Buffer.from(Array.from({ length: Math.floor(r() * 80) }, () => Math.floor(r() * 256)));
  if (x < 0.4) return Buffer.alloc(600 + Math.floor(r() * 2000), "a");
  const words = [
    pick(r, ["pdu1", "PDU1", "pdu2", "", junk(r)]),
    pick(r, [String(1 + Math.floor(r() * 16)), "0", "17", junk(r)]),
    pick(r, ["on", "off", "reboot", "REBOOT", "toggle", junk(r)]),
    ...(r() < 0.3 ? [pick(r, ["0", "1", "-1", "1e9", "abc"])] : []),
    ...(r() < 0.1 ? ["extra", "words"] : []),
  ];
  return Buffer.from(
    words.join(pick(r, [" ", "  ", "\t", " \r\n"])) + pick(r, ["", "\n", "\r\n", "\u0000"]),
    "utf8",
  );
}

test(`the gateway under ${REQUESTS} random HTTP requests, raw bytes and random PDUDaemon TCP lines: both processes stay up, no 500, no switch without an ok result`, async (t) => {
  t.timeout(180_000);
  const broker = await startBroker(t, "embedded");
  const stateDir = tempDir(t);
  setRelayTruth(stateDir, INITIAL);
  const random = seededRandom(seedFromEnv(t));
  const obs = await observe(t, broker.url);
  const agent = startAgentProcess(t, broker.url, stateDir, {
    PIPDU_COMMANDS_MAX_DELAY: "1",
    PIPDU_COMMANDS_DEFAULT_CYCLE_DELAY: "0",
  });
  await waitOnline(obs.seen);
  t.deepEqual(await allStates(obs.seen), maskToStates(INITIAL));
  const [httpPort, pdudaemonPort] = [await freePort(), await freePort()];
  const gateway = spawnPipdu(t, ["gateway"], {
    PIPDU_MQTT_URL: broker.url,
    PIPDU_STATE_DIR: tempDir(t),
    PIPDU_HTTP_PORT: String(httpPort),
    PIPDU_PDUDAEMON_PORT: String(pdudaemonPort),
    PIPDU_GATEWAY_HOST: "127.0.0.1",
    PIPDU_GATEWAY_REQUEST_TIMEOUT: "5",
  });
  const base = `http://127.0.0.1:${httpPort}`;
  await eventually(
    "gateway listening",
    () =>
      fetch(`${base}/healthz`).then(
        (r) => (r.ok ? true : undefined),
        () => undefined,
      ),
    30_000,
  );
  await waitForPdu(base, "pdu1", 16);

  const statuses = new Map<string, number>();
  const count = (k: string): void => void statuses.set(k, (statuses.get(k) ?? 0) + 1);
  const alive = (): boolean =>
    agent.exitCode === null &&
    agent.signalCode === null &&
    gateway.exitCode === null &&
    gateway.signalCode === null;

  // HTTP, ten at a time.
  let next = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < REQUESTS) {
        next++;
        const { method, path, body } = request(random);
        try {
          const response = await fetch(`${base}${path}`, {
            method,
            ...(body !== undefined
              ? { body, headers: { "content-type": pick(random, ["application/json", "text/plain", "x/y"]) } }
              : {}),
            signal: AbortSignal.timeout(10_000),
          });
          await response.arrayBuffer();
          count(`http ${response.status}`);
        } catch (err) {
          count(`http ${(err as Error).name}`);
        }
      }
    }),
  );
  // Raw bytes on the HTTP port and PDUDaemon TCP lines, ten connections at a time.
  const tenAtATime = async (n: number, one: () => Promise<void>): Promise<void> => {
    for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: Math.min(10, n - i) }, one));
  };
  await tenAtATime(100, async () => {
    const bytes = Buffer.from(
      Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256)),
    );
    await Promise.race([rawTcp(httpPort, [bytes], true), sleep(2000)]);
    count("raw http bytes");
  });
  let acks = 0;
  let nacks = 0;
  await tenAtATime(500, async () => {
    const reply = await Promise.race([
      pduclientTcp(pdudaemonPort, tcpLine(random)),
      sleep(12_000).then(() => null),
    ]);
    const text = reply?.toString("utf8") ?? "(no reply)";
    if (text.startsWith("ack")) acks++;
    else if (text.startsWith("nack")) nacks++;
    else count(`tcp ${text.slice(0, 20)}`);
  });
  t.true(alive(), "the gateway and the agent are still running");
  await sleep(1500); // delayed commands (at most 1 s) finish

  const ok = results(obs.seen).filter((r) => r.status === "ok");
  const model = maskToStates(INITIAL);
  for (const r of ok) {
    if (r.outlets) for (const [n, state] of Object.entries(r.outlets)) model[Number(n) - 1] = state;
    else if (typeof r.state === "string") model[(r["outlet"] as number) - 1] = r.state;
  }
  t.deepEqual(maskToStates(relayTruth(stateDir)), model, "no outlet switched without an ok result");
  t.is(statuses.get("http 500") ?? 0, 0, "no request ended in an internal error");
  t.true((await fetch(`${base}/healthz`)).ok, "the gateway still answers");
  await eventually("gateway states match the relays", async () => {
    const s = await fetch(`${base}/api/pdus/pdu1/outlets`).then(
      (r) => r.json() as Promise<{ state: string }[]>,
    );
    return s.map((o) => o.state).join() === model.join() ? true : undefined;
  });
  t.notRegex(gateway.output(), /uncaught|unhandled/i);
  t.log(
    `gateway: ${REQUESTS} HTTP requests [${[...statuses].map(([k, n]) => `${k}: ${n}`).join(", ")}]; 500 TCP lines: ${acks} ack, ${nacks} nack; ` +
      `${results(obs.seen).length} agent results, ${ok.length} ok; switches without an ok result: 0; both processes alive`,
  );
});
