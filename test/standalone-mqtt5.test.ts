// `pipdu start` with its embedded broker, used as MQTT 5 clients use it: Home Assistant (MQTT 5, clean start,
// birth message), mosquitto_rr -V mqttv5 (request/response) and mosquitto_sub -V mqttv5.
import { execFile } from "node:child_process";
import test, { type ExecutionContext } from "ava";
import { collectMessages, connectClient, nextMessage } from "./helpers/mqtt-clients.ts";
import {
  eventually,
  exited,
  freePort,
  hasMosquitto,
  mosquittoPub,
  mosquittoSub,
  spawnPipdu,
  tempDir,
} from "./helpers/system.ts";

async function startPipdu(
  t: ExecutionContext,
): Promise<{ port: number; output: () => string; child: ReturnType<typeof spawnPipdu> }> {
  const port = await freePort();
  const child = spawnPipdu(t, ["start"], {
    PIPDU_STATE_DIR: tempDir(t),
    PIPDU_HARDWARE: "sim",
    PIPDU_BROKER_PORT: String(port),
    PIPDU_BROKER_WS_PORT: "0",
    PIPDU_GATEWAY_ENABLED: "false",
    PIPDU_PANEL_ENABLED: "false",
  });
  await eventually("pipdu start", () => (child.output().includes("is running") ? true : undefined), 30_000);
  return { port, output: child.output, child };
}

test("a Home-Assistant-like MQTT 5 client with clean start sees discovery re-announced after its birth message", async (t) => {
  const { port, output } = await startPipdu(t);
  const url = `mqtt://127.0.0.1:${port}`;
  const ha = await connectClient(t, url, {
    protocolVersion: 5,
    clean: true,
    clientId: "homeassistant-test",
    properties: { sessionExpiryInterval: 0 },
  });
  const seen = collectMessages(ha);
  await ha.subscribeAsync(["homeassistant/#", "pipdu/#"], { qos: 1 });
  const announced = await eventually("retained discovery", () =>
    seen.find((m) => m.topic.startsWith("homeassistant/device/") && m.packet.retain),
  );
  const count = (): number => seen.filter((m) => m.topic === announced.topic).length;
  const before = count();
  const again = nextMessage(ha, announced.topic);
  await ha.publishAsync("homeassistant/status", "online", { qos: 1 });
  const reannounced = await again;
  t.true(count() > before);
  t.is(typeof JSON.parse(reannounced.payload), "object");
  t.true(seen.some((m) => m.topic === "pipdu/pdu1/availability" && m.payload === "online"));
  t.notRegex(output(), /refused MQTT 5/, "the parts connect with MQTT 5 without probing");
});

(hasMosquitto ? test : test.skip)(
  "mosquitto_rr -V mqttv5 gets the agent's result and mosquitto_sub -V mqttv5 reads state",
  async (t) => {
    const { port } = await startPipdu(t);
    const result = await new Promise<string>((resolve, reject) => {
      execFile(
        "mosquitto_rr",
        ["-V", "mqttv5", "-h", "127.0.0.1", "-p", String(port), "-W", "10"].concat([
          "-t",
          "pipdu/pdu1/outlet/3/set",
          "-e",
          "pipdu/response/rr1/x",
          "-m",
          "ON",
        ]),
        (err, stdout) => {
          if (err) reject(new Error(`mosquitto_rr failed: ${err.message}`));
          else resolve(stdout);
        },
      );
    });
    t.like(JSON.parse(result), { outlet: 3, command: "on", status: "ok", state: "ON" });
    const sub = mosquittoSub(port, "pipdu/pdu1/outlet/3/state", 1, 10, ["-V", "mqttv5"]);
    t.deepEqual(await sub.lines, ["pipdu/pdu1/outlet/3/state ON"]);
  },
);

(hasMosquitto ? test : test.skip)(
  "a retained set published live with mosquitto_pub -r is refused and cleared, the outlet stays off",
  async (t) => {
    const { port } = await startPipdu(t);
    const url = `mqtt://127.0.0.1:${port}`;
    const client = await connectClient(t, url, { protocolVersion: 5 });
    await client.subscribeAsync(["pipdu/pdu1/result", "pipdu/pdu1/outlet/4/state"], { qos: 1 });
    const result = nextMessage(client, "pipdu/pdu1/result");
    await mosquittoPub(port, "pipdu/pdu1/outlet/4/set", "ON", ["-r"]);
    t.like(JSON.parse((await result).payload), { status: "error", error: { code: "retained_command" } });
    const later = await connectClient(t, url);
    const seen = collectMessages(later);
    await later.subscribeAsync(["pipdu/pdu1/outlet/4/#"], { qos: 1 });
    const state = await eventually("outlet 4 state", () =>
      seen.find((m) => m.topic === "pipdu/pdu1/outlet/4/state"),
    );
    t.is(state.payload, "OFF");
    t.false(
      seen.some((m) => m.topic === "pipdu/pdu1/outlet/4/set"),
      "the retained command was cleared",
    );
  },
);

test("pipdu start stops on SIGTERM with its parts connected in-process", async (t) => {
  const { child } = await startPipdu(t);
  const exit = exited(child);
  child.kill("SIGTERM");
  t.is(await exit, 0);
});
