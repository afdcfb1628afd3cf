// The agent on the host-built firmware after a power cut: the firmware's staggered cold start shows up
// among the pending actions and one step can be cancelled; the others still run.
import fs from "node:fs";
import test from "ava";
import { Reg } from "../../protocol/register-map.ts";
import { createAgent } from "../../pdu-agent/create-agent.ts";
import { DEFAULT_BRIDGE_PATH, FirmwareBridgeBus } from "../helpers/firmware-bridge-bus.ts";
import { RegisterClient } from "../../pdu-agent/hardware/register-client.ts";
import { RegisterOutletController } from "../../pdu-agent/hardware/register-outlet-controller.ts";
import { silentLogger } from "../../log/logger.ts";
import { collectMessages, connectClient } from "../helpers/mqtt-clients.ts";
import { eventually, startBroker, testSettings } from "../helpers/system.ts";

const built = fs.existsSync(DEFAULT_BRIDGE_PATH);
if (!built && process.env["CI"] === "true")
  throw new Error(`${DEFAULT_BRIDGE_PATH} missing: run make -C firmware bridge`);

(built ? test : test.skip)(
  "cold-start steps still running are pending actions; cancelling one keeps that outlet off",
  async (t) => {
    const bus = await FirmwareBridgeBus.start({ address: 0x42, outlets: 16 });
    const client = new RegisterClient(bus, 0x42);
    // Outlets 1–3 come on after a power cut: at once, after 2 s and after 5 s (ON_DELAY is in 100 ms).
    await client.write(Reg.COLD_POLICY, Uint8Array.of(1, 1, 1));
    await client.write(Reg.ON_DELAY, Uint8Array.of(0, 20, 50));
    await client.write(Reg.COMMAND, Uint8Array.of(1)); // save to EEPROM
    await bus.advance(100);
    await bus.reset("power"); // the bridge's clock stands still until advanced: the delays wait for us
    t.is(await bus.relayPins(), 0b001, "outlet 1 on at once, 2 and 3 waiting");

    const broker = await startBroker(t, "embedded");
    const settings = testSettings(t, { mqtt: { url: broker.url } });
    const agent = await createAgent({
      settings,
      controller: new RegisterOutletController(client, "firmware-bridge", () => bus.close()),
      logger: silentLogger(),
    });
    const observer = await connectClient(t, broker.url, { protocolVersion: 4 });
    const seen = collectMessages(observer);
    await observer.subscribeAsync("pipdu/pdu1/#", { qos: 1 });
    await agent.start();
    t.teardown(() => agent.stop());

    const pendingNow = () =>
      JSON.parse(seen.filter((m) => m.topic === "pipdu/pdu1/pending").at(-1)?.payload ?? "[]") as Record<
        string,
        unknown
      >[];
    const pending = await eventually("cold-start steps pending", () =>
      pendingNow().length === 2 ? pendingNow() : undefined,
    );
    t.deepEqual(pending, [
      { id: 10002, outlet: 2, action: "on", dueAt: null, source: "cold_start" },
      { id: 10003, outlet: 3, action: "on", dueAt: null, source: "cold_start" },
    ]);

    await observer.publishAsync(
      "pipdu/pdu1/set",
      JSON.stringify({ action: "cancel", outlet: 3, transaction: "stop-3" }),
      { qos: 1 },
    );
    const result = await eventually(
      "cancel result",
      () => seen.find((m) => m.topic === "pipdu/pdu1/result" && m.payload.includes("stop-3"))?.payload,
    );
    t.like(JSON.parse(result), { command: "cancel", status: "ok", cancelled: [10003] });

    await bus.advance(6000); // both delays run out
    await eventually("outlet 2 on by the firmware", () =>
      seen.some((m) => m.topic === "pipdu/pdu1/outlet/2/state" && m.payload === "ON") ? true : undefined,
    );
    await eventually("nothing pending", () => (pendingNow().length === 0 ? true : undefined));
    t.is(await bus.relayPins(), 0b011, "outlet 3 stayed off");
  },
);

(built ? test : test.skip)(
  "the cold-start step of a protected outlet is kept by a cancel without force, and cancelled with it",
  async (t) => {
    const bus = await FirmwareBridgeBus.start({ address: 0x42, outlets: 16 });
    const client = new RegisterClient(bus, 0x42);
    await client.write(Reg.COLD_POLICY, Uint8Array.of(0, 1, 1));
    await client.write(Reg.ON_DELAY, Uint8Array.of(0, 20, 50));
    await client.write(Reg.COMMAND, Uint8Array.of(1));
    await bus.advance(100);
    await bus.reset("power");
    const broker = await startBroker(t, "embedded");
    const settings = testSettings(t, { mqtt: { url: broker.url }, outlets: [{}, { protected: true }, {}] });
    const agent = await createAgent({
      settings,
      controller: new RegisterOutletController(client, "firmware-bridge", () => bus.close()),
      logger: silentLogger(),
    });
    const observer = await connectClient(t, broker.url, { protocolVersion: 4 });
    const seen = collectMessages(observer);
    await observer.subscribeAsync("pipdu/pdu1/#", { qos: 1 });
    await agent.start();
    t.teardown(() => agent.stop());
    const pendingNow = () =>
      (
        JSON.parse(seen.filter((m) => m.topic === "pipdu/pdu1/pending").at(-1)?.payload ?? "[]") as {
          id: number;
        }[]
      ).map((p) => p.id);
    await eventually("two cold-start steps pending", () => (pendingNow().length === 2 ? true : undefined));
    const send = async (body: Record<string, unknown>) => {
      await observer.publishAsync("pipdu/pdu1/set", JSON.stringify(body), { qos: 1 });
      const tx = String(body["transaction"]);
      return JSON.parse(
        await eventually(
          tx,
          () => seen.find((m) => m.topic === "pipdu/pdu1/result" && m.payload.includes(tx))?.payload,
        ),
      ) as Record<string, unknown>;
    };
    t.like(await send({ action: "cancel", transaction: "all" }), {
      status: "ok",
      cancelled: [10003],
      skipped: { "10002": { code: "protected_outlet" } },
    });
    t.like(await send({ action: "cancel", id: 10002, force: true, transaction: "forced" }), {
      status: "ok",
      cancelled: [10002],
    });
    await bus.advance(6000); // both delays would have run out
    t.is(await bus.relayPins(), 0b000, "neither came on");
  },
);
