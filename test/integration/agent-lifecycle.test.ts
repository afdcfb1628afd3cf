// The pdu-agent as its own process on a real broker: kills, restarts, retained and stale commands.
import fs from "node:fs";
import path from "node:path";
import test, { type ExecutionContext } from "ava";
import type { MqttClient } from "mqtt";
import { collectMessages, connectClient, type Received } from "../helpers/mqtt-clients.ts";
import {
  BROKERS,
  eventually,
  exited,
  spawnPipdu,
  startBroker,
  tempDir,
  type RunningBroker,
} from "../helpers/system.ts";

const T = "pipdu/pdu1";

function startAgentProcess(
  t: ExecutionContext,
  broker: RunningBroker,
  stateDir: string,
  env: Record<string, string> = {},
) {
  return spawnPipdu(t, ["pdu"], {
    PIPDU_MQTT_URL: broker.url,
    PIPDU_STATE_DIR: stateDir,
    PIPDU_HARDWARE: "sim",
    PIPDU_TELEMETRY_INTERVAL: "0.2",
    ...env,
  });
}

async function observer(
  t: ExecutionContext,
  broker: RunningBroker,
): Promise<{ client: MqttClient; seen: Received[] }> {
  const client = await connectClient(t, broker.url, { protocolVersion: 4 });
  const seen = collectMessages(client);
  await client.subscribeAsync(`${T}/#`, { qos: 1 });
  return { client, seen };
}

/** The latest value seen on a topic after index `from`. */
function latest(seen: Received[], topic: string, from = 0): string | undefined {
  return seen
    .slice(from)
    .filter((m) => m.topic === topic)
    .at(-1)?.payload;
}

async function command(
  client: MqttClient,
  seen: Received[],
  outlet: number,
  payload: string,
): Promise<Record<string, unknown>> {
  const transaction = `t-${Math.random().toString(36).slice(2)}`;
  const from = seen.length;
  await client.publishAsync(
    `${T}/outlet/${outlet}/set`,
    JSON.stringify({ ...JSON.parse(payload), transaction }),
    { qos: 1 },
  );
  return eventually(`result of ${payload}`, () => {
    const r = seen.slice(from).find((m) => m.topic === `${T}/result` && m.payload.includes(transaction));
    return r ? (JSON.parse(r.payload) as Record<string, unknown>) : undefined;
  });
}

const onlineOutlets = (seen: Received[], from: number): string[] =>
  Array.from({ length: 16 }, (_, i) => latest(seen, `${T}/outlet/${i + 1}/state`, from) ?? "?");

for (const kind of BROKERS) {
  test(`[${kind}] killing the agent sends the offline last will; a restart comes back online with every relay as it was`, async (t) => {
    const broker = await startBroker(t, kind);
    const stateDir = tempDir(t);
    const { client, seen } = await observer(t, broker);
    const agent = startAgentProcess(t, broker, stateDir);
    await eventually("online", () => (latest(seen, `${T}/availability`) === "online" ? true : undefined));
    t.is((await command(client, seen, 2, '{"state":"ON"}'))["status"], "ok");
    t.is((await command(client, seen, 5, '{"state":"ON"}'))["status"], "ok");

    agent.kill("SIGKILL");
    await exited(agent);
    await eventually("last will", () => (latest(seen, `${T}/availability`) === "offline" ? true : undefined));

    const from = seen.length;
    startAgentProcess(t, broker, stateDir);
    await eventually("online again", () =>
      latest(seen, `${T}/availability`, from) === "online" ? true : undefined,
    );
    const states = await eventually("all 16 states republished", () => {
      const s = onlineOutlets(seen, from);
      return s.includes("?") ? undefined : s;
    });
    t.deepEqual(states, ["OFF", "ON", "OFF", "OFF", "ON", ...Array<string>(11).fill("OFF")]);
    t.false(
      seen.slice(from).some((m) => m.topic === `${T}/result`),
      "the restart itself ran no command",
    );
  });

  test(`[${kind}] a clean stop publishes offline and leaves the relays on`, async (t) => {
    const broker = await startBroker(t, kind);
    const stateDir = tempDir(t);
    const { client, seen } = await observer(t, broker);
    const agent = startAgentProcess(t, broker, stateDir);
    await eventually("online", () => (latest(seen, `${T}/availability`) === "online" ? true : undefined));
    await command(client, seen, 9, '{"state":"ON"}');
    agent.kill("SIGTERM");
    t.is(await exited(agent), 0);
    // The agent published it before exiting; the broker may still be delivering it to us.
    await eventually("offline", () => (latest(seen, `${T}/availability`) === "offline" ? true : undefined));
    t.false(
      seen.some(
        (m) => m.topic === `${T}/result` && m.payload.includes('"outlet":9') && m.payload.includes("OFF"),
      ),
    );
    t.deepEqual(JSON.parse(fs.readFileSync(path.join(stateDir, "sim-relays.json"), "utf8")), {
      relays: 1 << 8,
    });
    t.regex(agent.output(), /relays left as they are/);
  });

  test(`[${kind}] a retained set is never acted on: it is answered with an error and cleared`, async (t) => {
    const broker = await startBroker(t, kind);
    const stateDir = tempDir(t);
    const { client, seen } = await observer(t, broker);
    await client.publishAsync(`${T}/outlet/4/set`, "ON", { qos: 1, retain: true });
    startAgentProcess(t, broker, stateDir);
    const result = await eventually(
      "retained_command result",
      () => seen.find((m) => m.topic === `${T}/result`)?.payload,
    );
    t.like(JSON.parse(result), { status: "error", error: { code: "retained_command" } });
    await eventually("outlet 4 state", () => latest(seen, `${T}/outlet/4/state`));
    t.is(latest(seen, `${T}/outlet/4/state`), "OFF");
    // The retained command is gone: a new subscriber to the set topic gets nothing.
    const late = await connectClient(t, broker.url, { protocolVersion: 4 });
    const lateSeen = collectMessages(late);
    await late.subscribeAsync(`${T}/outlet/4/set`, { qos: 1 });
    await command(client, seen, 1, '{"state":"OFF"}'); // a round trip, so the broker has delivered anything it had
    t.deepEqual(
      lateSeen.map((m) => m.payload),
      [],
    );
  });

  test(`[${kind}] a command sent while the agent was away does not act when it returns`, async (t) => {
    const broker = await startBroker(t, kind);
    const stateDir = tempDir(t);
    const { client, seen } = await observer(t, broker);
    const agent = startAgentProcess(t, broker, stateDir);
    await eventually("online", () => (latest(seen, `${T}/availability`) === "online" ? true : undefined));
    agent.kill("SIGKILL");
    await exited(agent);
    await client.publishAsync(`${T}/outlet/6/set`, "ON", { qos: 1 });
    const from = seen.length;
    startAgentProcess(t, broker, stateDir);
    await eventually("outlet 6 republished", () => latest(seen, `${T}/outlet/6/state`, from));
    await command(client, seen, 1, '{"state":"OFF"}');
    t.is(latest(seen, `${T}/outlet/6/state`), "OFF");
    t.false(seen.slice(from).some((m) => m.topic === `${T}/result` && m.payload.includes('"outlet":6')));
  });

  test(`[${kind}] after a broker restart the agent reconnects, republishes and takes commands`, async (t) => {
    const broker = await startBroker(t, kind);
    const stateDir = tempDir(t);
    const agent = startAgentProcess(t, broker, stateDir);
    {
      const { seen } = await observer(t, broker);
      await eventually("online", () => (latest(seen, `${T}/availability`) === "online" ? true : undefined));
    }
    await broker.restart();
    const { client, seen } = await observer(t, broker);
    try {
      await eventually("a live availability after reconnect", () =>
        seen.find((m) => m.topic === `${T}/availability` && m.payload === "online" && !m.packet.retain)
          ? true
          : undefined,
      );
      t.like(await command(client, seen, 3, '{"action":"toggle"}'), { status: "ok", state: "ON" });
    } catch (err) {
      // What the agent said and what the bus carried, so a failure here can be read without a rerun.
      t.log(agent.output());
      t.log(
        seen
          .filter((m) => !m.topic.includes("/outlet/") || m.topic.endsWith("/set"))
          .map((m) => `${m.topic} ${m.packet.retain ? "R " : ""}${m.payload.slice(0, 80)}`)
          .join("\n"),
      );
      throw err;
    }
  });
}

test("[embedded] the agent stops cleanly on SIGTERM while its broker is unreachable", async (t) => {
  const broker = await startBroker(t, "embedded");
  const stateDir = tempDir(t);
  const { seen } = await observer(t, broker);
  const agent = startAgentProcess(t, broker, stateDir);
  await eventually("online", () => (latest(seen, `${T}/availability`) === "online" ? true : undefined));
  await broker.stop();
  agent.kill("SIGTERM");
  t.is(await exited(agent), 0, "exits by itself instead of waiting for the broker");
  t.regex(agent.output(), /relays left as they are/);
});
