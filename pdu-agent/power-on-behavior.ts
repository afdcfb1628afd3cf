// The outlets' cold-start policy over MQTT (Home Assistant's "power-on behavior" select, and anyone's):
// state retained on `outlet/<n>/power_on_behavior`, commands on `.../set` through the command router,
// written to the firmware's EEPROM through the PDU's command queue. On a protected outlet a policy other
// than `on` or `last` (it would leave the outlet OFF after a power cut) needs force.
import type { Logger } from "../log/logger.ts";
import {
  decodePayload,
  MAX_TRANSACTION_LENGTH,
  type CommandError,
  type Transaction,
} from "../protocol/commands.ts";
import type { ResultPayload } from "../protocol/payloads.ts";
import { parseOutletNumber, type Topics } from "../protocol/topics.ts";
import type { CommandQueue } from "./command-queue.ts";
import type { CommandHandler } from "./command-router.ts";
import type { Feature } from "./feature.ts";
import {
  COLD_START_POLICIES,
  type ColdStartPolicy,
  type OutletController,
} from "./hardware/outlet-controller.ts";
import type { Publisher } from "./publisher.ts";

interface Request {
  policy: ColdStartPolicy;
  force: boolean;
  transaction?: Transaction;
}

/** `off` / `on` / `last` (any case), or JSON `{"power_on_behavior":"off","force":true,"transaction":…}`. */
export function parsePowerOnBehavior(
  payload: Uint8Array,
): { ok: true; value: Request } | { ok: false; error: CommandError; transaction?: Transaction } {
  const decoded = decodePayload(payload);
  if (!decoded.ok) return decoded;
  const text = decoded.text;
  const allowed = 'use off, on or last, or JSON {"power_on_behavior":"off","force":true}';
  const policyOf = (value: unknown): ColdStartPolicy | undefined =>
    typeof value === "string" ? COLD_START_POLICIES.find((p) => p === value.toLowerCase()) : undefined;
  if (!text.startsWith("{")) {
    const policy = policyOf(text);
    return policy
      ? { ok: true, value: { policy, force: false } }
      : {
          ok: false,
          error: {
            code: "invalid_value",
            message: `"${text.slice(0, 40).replace(/[^\x20-\x7e]/g, "?")}" is not a power-on behavior; ${allowed}`,
          },
        };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      ok: false,
      error: { code: "invalid_payload", message: "payload starts with { but is not valid JSON" },
    };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { ok: false, error: { code: "invalid_payload", message: "JSON payload must be an object" } };
  const obj = value as Record<string, unknown>;
  const tx = obj["transaction"];
  const transaction =
    (typeof tx === "string" && tx.length <= MAX_TRANSACTION_LENGTH) ||
    (typeof tx === "number" && Number.isFinite(tx))
      ? tx
      : undefined;
  const fail = (code: CommandError["code"], message: string) =>
    transaction === undefined
      ? { ok: false as const, error: { code, message } }
      : { ok: false as const, error: { code, message }, transaction };
  if (tx !== undefined && transaction === undefined)
    return fail(
      "invalid_value",
      `"transaction" must be a string of at most ${MAX_TRANSACTION_LENGTH} characters or a number`,
    );
  const unknown = Object.keys(obj).find((k) => !["power_on_behavior", "force", "transaction"].includes(k));
  if (unknown !== undefined)
    return fail(
      "unknown_field",
      `unknown field "${unknown.slice(0, 40)}"; allowed fields: power_on_behavior, force, transaction`,
    );
  const policy = policyOf(obj["power_on_behavior"]);
  if (!policy) return fail("invalid_value", `"power_on_behavior" must be off, on or last`);
  if (obj["force"] !== undefined && typeof obj["force"] !== "boolean")
    return fail("invalid_value", '"force" must be true or false');
  const request: Request = { policy, force: obj["force"] === true };
  if (transaction !== undefined) request.transaction = transaction;
  return { ok: true, value: request };
}

export class PowerOnBehavior implements Feature, CommandHandler<{ raw: string }> {
  readonly name = "power-on-behavior";
  readonly kind = "power_on_behavior";
  private policies: ColdStartPolicy[] = [];

  constructor(
    private readonly controller: OutletController,
    private readonly queue: CommandQueue,
    private readonly publisher: Publisher,
    private readonly topics: Topics,
    private readonly pduId: string,
    private readonly outletCount: number,
    private readonly isProtected: (outlet: number) => boolean,
    private readonly logger: Logger,
  ) {}

  /** The hardware keeps a policy per outlet (else there is nothing to publish or set). */
  get supported(): boolean {
    return (
      typeof this.controller.readColdPolicies === "function" &&
      typeof this.controller.setColdPolicy === "function"
    );
  }

  async start(): Promise<void> {
    await this.refresh();
  }

  async announce(): Promise<void> {
    if (!this.supported) return;
    if (this.policies.length === 0) await this.refresh();
    await this.publishStates();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  filters(): string[] {
    return this.supported ? [this.topics.powerOnBehaviorSetFilter(this.pduId)] : [];
  }

  match(topic: string): { raw: string } | null {
    if (!this.supported) return null;
    const raw = this.topics.parsePowerOnBehaviorSet(this.pduId, topic);
    return raw === null ? null : { raw };
  }

  describe(match: { raw: string }): Pick<ResultPayload, "outlet" | "command"> {
    return { outlet: parseOutletNumber(match.raw, this.outletCount), command: "power_on_behavior" };
  }

  async handle(match: { raw: string }, payload: Buffer): Promise<ResultPayload> {
    const outlet = parseOutletNumber(match.raw, this.outletCount);
    const parsed = parsePowerOnBehavior(payload);
    const fail = (error: CommandError, transaction?: Transaction): ResultPayload => ({
      outlet,
      command: "power_on_behavior",
      status: "error",
      error,
      ...(transaction !== undefined ? { transaction } : {}),
    });
    if (!parsed.ok) return fail(parsed.error, parsed.transaction);
    const { policy, force, transaction } = parsed.value;
    if (outlet === null)
      return fail(
        {
          code: "invalid_outlet",
          message: `outlet "${match.raw.slice(0, 20).replace(/[^\x20-\x7e]/g, "?")}" does not exist; outlets are 1 to ${this.outletCount}`,
        },
        transaction,
      );
    if (policy === "off" && this.isProtected(outlet) && !force)
      return fail(
        {
          code: "protected_outlet",
          message: `outlet ${outlet} is protected: power-on behavior "off" would leave it OFF after a power cut; it needs "force": true`,
        },
        transaction,
      );
    const result = await this.apply(outlet, policy);
    if (transaction !== undefined) result.transaction = transaction;
    return result;
  }

  private async refresh(): Promise<void> {
    if (!this.controller.readColdPolicies) return;
    try {
      this.policies = await this.controller.readColdPolicies();
    } catch (err) {
      this.logger.warn(`cold-start policies not read: ${(err as Error).message}`, { component: "power-on" });
    }
  }

  private async publishStates(): Promise<void> {
    await Promise.all(
      this.policies
        .slice(0, this.outletCount)
        .map((policy, i) =>
          this.publisher.publish(this.topics.powerOnBehavior(this.pduId, i + 1), policy, true),
        ),
    );
  }

  private async apply(outlet: number, policy: ColdStartPolicy): Promise<ResultPayload> {
    const set = this.controller.setColdPolicy?.bind(this.controller);
    if (!set)
      return {
        outlet,
        command: "power_on_behavior",
        status: "error",
        error: { code: "hardware_error", message: "no cold-start policy on this hardware" },
      };
    try {
      // Through the PDU's command queue: in order with relay commands, never in the middle of a cycle.
      this.policies = await this.queue.run(() => set(outlet, policy));
      await this.publishStates();
      return { outlet, command: "power_on_behavior", status: "ok", power_on_behavior: policy };
    } catch (err) {
      await this.refresh();
      await this.publishStates(); // so a select that moved ahead of the hardware moves back
      const result: ResultPayload = {
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
}
