// The outlets' cold-start policy over MQTT (Home Assistant's "power-on behavior" select): state retained on
// `outlet/<n>/power_on_behavior`, commands on `.../set`, written to the firmware's EEPROM through the
// OutletController, one result per command. Retained commands are refused and cleared, as for `set`.
import type { IPublishPacket } from "mqtt";
import { COLD_START_POLICIES, type ColdStartPolicy } from "../pdu-agent/hardware/outlet-controller.ts";
import type { AgentContext, AgentPlugin } from "../pdu-agent/plugin.ts";
import { MAX_PAYLOAD_BYTES, type CommandError } from "../protocol/commands.ts";
import type { ResultPayload } from "../protocol/payloads.ts";
import { parseOutletNumber } from "../protocol/topics.ts";

export type PowerOnResult = Omit<ResultPayload, "command" | "state"> & {
  command: "power_on_behavior";
  power_on_behavior?: ColdStartPolicy;
};

export class PowerOnBehavior implements AgentPlugin {
  readonly name = "power-on-behavior";
  private context: AgentContext | null = null;
  private policies: ColdStartPolicy[] = [];
  /** One policy write at a time: a write is two register writes and a read-back. */
  private chain: Promise<unknown> = Promise.resolve();
  private readonly onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
    void this.handle(topic, payload, packet);
  };

  async start(context: AgentContext): Promise<void> {
    const { controller, client, topics, settings } = context;
    if (!controller.readColdPolicies || !controller.setColdPolicy) return; // hardware without a stored policy
    this.context = context;
    await this.refresh();
    client.on("message", this.onMessage);
    const v5 = client.options.protocolVersion === 5;
    await client.subscribeAsync(
      topics.powerOnBehaviorSetFilter(settings.pdu.id),
      v5 ? { qos: 1, rap: true } : { qos: 1 },
    );
  }

  async announce(): Promise<void> {
    if (!this.context) return;
    if (this.policies.length === 0) await this.refresh();
    await this.publishStates();
  }

  async stop(): Promise<void> {
    this.context?.client.removeListener("message", this.onMessage);
    await this.chain.catch(() => undefined);
  }

  private async refresh(): Promise<void> {
    const ctx = this.context;
    if (!ctx?.controller.readColdPolicies) return;
    try {
      this.policies = await ctx.controller.readColdPolicies();
    } catch (err) {
      ctx.logger.warn(`cold-start policies not read: ${(err as Error).message}`, { component: "power-on" });
    }
  }

  private async publishStates(): Promise<void> {
    const ctx = this.context;
    if (!ctx || !ctx.isOnline()) return;
    const count = ctx.info().outlets.length;
    const publishes = this.policies.slice(0, count).map((policy, i) =>
      ctx.client.publishAsync(ctx.topics.powerOnBehavior(ctx.settings.pdu.id, i + 1), policy, {
        qos: 1,
        retain: true,
      }),
    );
    await Promise.all(publishes);
  }

  private async handle(topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    const ctx = this.context;
    if (!ctx) return;
    const pduId = ctx.settings.pdu.id;
    const raw = ctx.topics.parsePowerOnBehaviorSet(pduId, topic);
    // An empty payload is how a retained message is deleted (we send one below); it is not a command.
    if (raw === null || payload.length === 0) return;
    const outlet = parseOutletNumber(raw, ctx.info().outlets.length);
    const fail = (error: CommandError): PowerOnResult => ({
      outlet,
      command: "power_on_behavior",
      status: "error",
      error,
    });
    let result: PowerOnResult;
    if (packet.retain) {
      result = fail({
        code: "retained_command",
        message: `retained message on ${topic} ignored: commands must not be retained; it has been cleared`,
      });
      await ctx.client.publishAsync(topic, "", { qos: 1, retain: true }).catch(() => undefined);
    } else if (outlet === null) {
      result = fail({
        code: "invalid_outlet",
        message: `outlet "${raw}" does not exist; outlets are 1 to ${ctx.info().outlets.length}`,
      });
    } else if (payload.length > MAX_PAYLOAD_BYTES) {
      result = fail({
        code: "payload_too_large",
        message: `payload of ${payload.length} bytes; at most ${MAX_PAYLOAD_BYTES}`,
      });
    } else {
      const value = payload.toString("utf8").trim().toLowerCase();
      const policy = COLD_START_POLICIES.find((p) => p === value);
      result =
        policy === undefined
          ? fail({
              code: "invalid_value",
              message: `"${value.slice(0, 40)}" is not a power-on behavior; use off, on or last`,
            })
          : await this.apply(outlet, policy);
    }
    this.log(result);
    await this.publishResult(result, packet);
  }

  private async apply(outlet: number, policy: ColdStartPolicy): Promise<PowerOnResult> {
    const ctx = this.context;
    const set = ctx?.controller.setColdPolicy?.bind(ctx.controller);
    if (!ctx || !set)
      return {
        outlet,
        command: "power_on_behavior",
        status: "error",
        error: { code: "hardware_error", message: "no cold-start policy on this hardware" },
      };
    // Through the PDU's command queue: in order with relay commands, never in the middle of a cycle.
    const run = ctx.enqueue(() => set(outlet, policy));
    this.chain = run.catch(() => undefined);
    try {
      this.policies = await run;
      await this.publishStates();
      return { outlet, command: "power_on_behavior", status: "ok", power_on_behavior: policy };
    } catch (err) {
      await this.refresh();
      await this.publishStates(); // so a select that moved ahead of the hardware moves back
      const result: PowerOnResult = {
        outlet,
        command: "power_on_behavior",
        status: "error",
        error: {
          code: "hardware_error",
          message: `${(err as Error).message}; policy re-read from the hardware`,
        },
      };
      const actual = this.policies[outlet - 1];
      if (actual !== undefined) result.power_on_behavior = actual;
      return result;
    }
  }

  private async publishResult(result: PowerOnResult, request: IPublishPacket): Promise<void> {
    const ctx = this.context;
    if (!ctx) return;
    const text = JSON.stringify(result);
    const publishes = [ctx.client.publishAsync(ctx.topics.result(ctx.settings.pdu.id), text, { qos: 1 })];
    const responseTopic = request.properties?.responseTopic;
    if (typeof responseTopic === "string" && responseTopic.length > 0 && !/[#+]/.test(responseTopic)) {
      const correlationData = request.properties?.correlationData;
      publishes.push(
        ctx.client.publishAsync(responseTopic, text, {
          qos: 1,
          ...(correlationData ? { properties: { correlationData } } : {}),
        }),
      );
    }
    await Promise.all(publishes).catch((err: unknown) => {
      ctx.logger.warn(`power-on behavior result not published: ${(err as Error).message}`, {
        component: "power-on",
      });
    });
  }

  private log(result: PowerOnResult): void {
    const what = `outlet ${result.outlet ?? "?"} power-on behavior`;
    if (result.status === "ok")
      this.context?.logger.info(`${what}: ${result.power_on_behavior ?? ""} (saved in the firmware)`, {
        component: "command",
      });
    else
      this.context?.logger.warn(`${what}: ${result.error?.code ?? "error"}: ${result.error?.message ?? ""}`, {
        component: "command",
      });
  }
}
