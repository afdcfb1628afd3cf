// Fuzz under pipdu/#: random topics and payloads (random bytes, invalid UTF-8, JSON edge cases, huge payloads,
// retained flags), then raw MQTT packets with topics no client library would send (wildcards, NUL, invalid UTF-8).
// The agent must stay up, switch only what an ok result announces, and answer each message on one of its set
// topics exactly once, except an empty payload (how MQTT clears a retained message: documented as no command).
import net from "node:net";
import test from "ava";
import mqttPacket from "mqtt-packet";
import { connectClient } from "./helpers/mqtt-clients.ts";
import {
  PDU,
  T,
  allStates,
  command,
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
  type Result,
} from "./helpers/faults.ts";
import { BROKERS, eventually, startBroker, tempDir } from "./helpers/system.ts";

const MESSAGES = Number(process.env["PIPDU_FUZZ_MESSAGES"] ?? 3000);
const INITIAL = (1 << 0) | (1 << 5) | (1 << 10) | (1 << 15); // outlets 1, 6, 11, 16 on

type Rand = () => number;
const pick = <X>(r: Rand, xs: readonly X[]): X => xs[Math.floor(r() * xs.length)] as X;

function randomBytes(r: Rand, max: number): Buffer {
  return Buffer.from(Array.from({ length: Math.floor(r() * max) }, () => Math.floor(r() * 256)));
}

const JSON_EDGES = [
  '{"state":"ON","state":"BLAH"}',
  '{"__proto__":{"state":"ON"}}',
  '{"constructor":{"prototype":{"state":"ON"}}}',
  '{"state":"ON\\u0000"}',
  '{"state":null}',
  '{"state":["ON"]}',
  '{"state":{"state":"ON"}}',
  '{"action":"cycle","delay":1e309}',
  '{"action":"cycle","delay":-0.000001}',
  '{"action":"cycle","delay":"0"}',
  '{"state":"ON","delay":NaN}',
  '{"state":"ON","transaction":{}}',
  `{"state":"ON","transaction":"${"x".repeat(129)}"}`,
  '{"state":"ON","force":1}',
  '{"state":"ON",}',
  "{'state':'ON'}",
  "{",
  "}",
  "{}",
  "[]",
  "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
  '"ON"',
  "null",
  "true",
  "1",
  "-1e999",
  "ＯＮ",
  "\ufeffON",
  "O N",
  "ON;OFF",
  "ON\u0000",
  "0x01",
  "%4F%4E",
  '{"state":"O\\u004e"}',
  '{"action":"toggle","transaction":12345678901234567890}',
];
const INVALID_UTF8 = [
  [0xff],
  [0xc3, 0x28],
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xc0, 0xaf], // overlong "/"
  [0x4f, 0x4e, 0xfe],
];
const WORDS = ["ON", "off", "Toggle", "cYcLe", "on ", " OFF\n", "ONN", "O", "", "CYCLE!"];
// Up to the embedded broker's maximum packet size (256 KiB): a larger packet closes the publisher's connection
// by design (test/broker-mqtt5.test.ts, test/integration/broker-limits.test.ts).
const HUGE = [1025, 64 * 1024, 200 * 1024];

function payloadFor(r: Rand, hugeLeft: { n: number }): Buffer {
  const x = r();
  if (x < 0.3) return randomBytes(r, 64);
  if (x < 0.55) return Buffer.from(pick(r, JSON_EDGES));
  if (x < 0.65) return Buffer.from(pick(r, INVALID_UTF8));
  if (x < 0.75) return Buffer.from(pick(r, WORDS));
  if (x < 0.77 && hugeLeft.n > 0) {
    hugeLeft.n--;
    return Buffer.alloc(pick(r, HUGE), pick(r, ["O", "{", "\u00e9", "\u0000"]));
  }
  if (x < 0.85) return Buffer.alloc(0);
  return Buffer.from(
    JSON.stringify({ [pick(r, ["state", "action", "delay", "x"])]: randomBytes(r, 8).toString("latin1") }),
  );
}

const OUTLET_LEVELS = [
  "0",
  "17",
  "08",
  "016",
  "1.5",
  "-1",
  "abc",
  "",
  " 1",
  "１",
  "%31",
  "9".repeat(400),
  "0x1",
  "1e1",
];

/** A topic under pipdu/ and whether a message on it is one of the agent's commands. */
function topicFor(r: Rand): { topic: string; isSet: boolean } {
  const x = r();
  if (x < 0.55) return { topic: `${T}/outlet/${1 + Math.floor(r() * 16)}/set`, isSet: true };
  if (x < 0.7) return { topic: `${T}/outlet/${pick(r, OUTLET_LEVELS)}/set`, isSet: true };
  // PDU-wide commands (all_on, all_off, cancel) and the cold-start policy: commands too, one result each.
  if (x < 0.75) return { topic: `${T}/set`, isSet: true };
  if (x < 0.8)
    return { topic: `${T}/outlet/${pick(r, ["1", "16", "0", "x"])}/power_on_behavior/set`, isSet: true };
  const other = pick(r, [
    `${T}/outlet/3/set/x`,
    `${T}/outlet/3/SET`,
    `${T}/outlet/3`,
    `${T}/outlet/3/state`,
    `${T}/outlet/3/power_on_behavior/sets`,
    `${T}/set/1`,
    T,
    `${T}/`,
    `${T}/result/x`,
    `${T}/telemetry`,
    `pipdu/PDU1/outlet/3/set`,
    `pipdu/other/outlet/3/set`,
    `pipdu//outlet/3/set`,
    `pipdu/${PDU}//outlet/3/set`,
    `pipdu/${"p".repeat(5000)}/outlet/3/set`,
    `pipdu/\u00e9\u{1f50c}/outlet/3/set`,
    `pipdu/${PDU}/outlet/3/set `,
  ]);
  return { topic: other, isSet: false };
}

for (const kind of BROKERS) {
  test(`[${kind}] ${MESSAGES} random messages under pipdu/# and raw packets with wildcard, NUL and invalid UTF-8 topics: no crash, no unannounced switch, one result per command`, async (t) => {
    t.timeout(180_000);
    const broker = await startBroker(t, kind);
    const stateDir = tempDir(t);
    setRelayTruth(stateDir, INITIAL);
    const random = seededRandom(seedFromEnv(t));
    const obs = await observe(t, broker.url, `${T}/result`);
    const agent = startAgentProcess(t, broker.url, stateDir, {
      PIPDU_COMMANDS_MAX_DELAY: "0", // every delayed command is refused at once, so counting is exact
      PIPDU_COMMANDS_DEFAULT_CYCLE_DELAY: "0",
    });
    const watch = await observe(t, broker.url);
    await waitOnline(watch.seen);
    t.deepEqual(await allStates(watch.seen), maskToStates(INITIAL));

    const fuzzer = await connectClient(t, broker.url, { protocolVersion: 4 });
    let expected = 0;
    let sent = 0;
    let empty = 0;
    let retained = 0;
    let huge = 0;
    const hugeLeft = { n: 6 };
    for (let batch = 0; sent < MESSAGES; batch++) {
      for (let i = 0; i < 100 && sent < MESSAGES; i++, sent++) {
        const { topic, isSet } = topicFor(random);
        const payload = payloadFor(random, hugeLeft);
        const retain = random() < 0.1;
        if (payload.length > 1024 * 64) huge++;
        if (retain) retained++;
        if (payload.length === 0 && isSet) empty++;
        else if (isSet) expected++;
        // QoS 0 is at most once: a broker may drop it under load (Aedes does behind a multi-megabyte message),
        // so commands go with QoS 1 and the other topics with either.
        const qos = isSet ? 1 : pick(random, [0, 1] as const);
        await fuzzer.publishAsync(topic, payload, { qos, retain });
        if (process.env["PIPDU_FUZZ_DEBUG"] && isSet && payload.length > 0) {
          // One message at a time, to name the first one that goes unanswered.
          await eventually(
            `a result for ${retain ? "retained " : ""}${JSON.stringify(payload.subarray(0, 80).toString("latin1"))} on ${topic.slice(0, 80)}`,
            () => (results(obs.seen).length >= expected ? true : undefined),
            5000,
          );
        }
      }
      await eventually(
        `${expected} results after batch ${batch}`,
        () => (results(obs.seen).length >= expected ? true : undefined),
        30_000,
      );
      t.true(results(obs.seen).length <= expected, `batch ${batch}: more results than commands`);
    }
    // Sentinel: a command published after every fuzz message has been acknowledged is answered after all of
    // them, so a second result for any of them would have arrived by the time this one does.
    const sentinel = await command(obs, 2, { state: "ON" });
    t.like(sentinel, { status: "ok" });
    const fuzzResults = results(obs.seen).filter((r) => r["transaction"] !== sentinel["transaction"]);
    t.is(fuzzResults.length, expected, "exactly one result per non-empty message on a set topic");

    // Raw packets: topics a library refuses to send. Brokers drop the client or pass the message on.
    let raw = 0;
    const rawFrom = obs.seen.length;
    for (let i = 0; i < 60; i++) {
      const level = pick(random, ["+", "#", "\u0000", "a\u0000", "+1", "1#"]);
      const topic =
        random() < 0.5
          ? Buffer.from(`${T}/outlet/${level}/set`, "utf8")
          : Buffer.concat([
              Buffer.from(`${T}/outlet/`),
              Buffer.from(pick(random, INVALID_UTF8)),
              Buffer.from("/set"),
            ]);
      await rawPublish(broker.port, topic, pick(random, [Buffer.from("ON"), Buffer.from('{"state":"OFF"}')]));
      raw++;
    }
    await sleep(300);
    const rawResults = results(obs.seen, rawFrom);
    t.true(rawResults.length <= raw);
    t.true(
      rawResults.every((r) => r.status === "error"),
      "a command on a topic that is not an outlet never switches",
    );

    // Still alive and answering; only outlets an ok result announced have changed.
    t.true(agent.exitCode === null && agent.signalCode === null, "the agent is still running");
    t.like(await command(obs, 2, { state: "ON" }), { status: "ok", state: "ON" });
    const model = maskToStates(INITIAL);
    const ok = fuzzResults.filter((r: Result) => r.status === "ok");
    for (const r of ok) {
      if (r.outlets) for (const [n, state] of Object.entries(r.outlets)) model[Number(n) - 1] = state;
      else if (typeof r.state === "string") model[(r["outlet"] as number) - 1] = r.state;
    }
    model[1] = "ON";
    t.deepEqual(maskToStates(relayTruth(stateDir)), model, "no outlet switched without an ok result");
    t.notRegex(agent.output(), /failed unexpectedly|unexpected error|uncaught|unhandled/i);
    const codes = new Map<string, number>();
    for (const r of fuzzResults) {
      const code = r.status === "ok" ? "ok" : (r["error"] as { code: string }).code;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    t.log(
      `${kind}: ${sent} messages (${retained} retained, ${huge} over 64 kB, ${empty} empty on set topics) -> ${fuzzResults.length} results for ${expected} commands ` +
        `[${[...codes].map(([c, n]) => `${c} ${n}`).join(", ")}]; ${raw} raw packets -> ${rawResults.length} results, all errors; ` +
        `switches: ${ok.length} announced by ok results, 0 unannounced; agent alive`,
    );
  });
}

/** CONNECT and PUBLISH written by hand, so the topic can be anything; the socket is closed afterwards. */
async function rawPublish(port: number, topic: Buffer, payload: Buffer): Promise<void> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  await new Promise<void>((resolve) => {
    socket.once("connect", () => resolve());
    socket.once("error", () => resolve());
  });
  const connect = mqttPacket.generate({
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 4,
    clean: true,
    clientId: `fuzz-raw-${Math.random().toString(36).slice(2)}`,
    keepalive: 10,
  });
  // PUBLISH QoS 0 with a raw topic: fixed header 0x30, remaining length, topic length, topic, payload.
  const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, payload]);
  const publish = Buffer.concat([Buffer.from([0x30]), remainingLength(body.length), body]);
  socket.write(connect);
  await sleep(10);
  socket.write(publish);
  await sleep(10);
  socket.destroy();
}

function remainingLength(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}
