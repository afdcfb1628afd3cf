// OutletController over the piPDU register protocol: every relay change is read back before it counts.
import { CHANNELS, ColdPolicy, Command, DEVICE_MAGIC, Reg, ResetCause } from "../../protocol/register-map.ts";
import {
  HardwareError,
  type ColdStartPolicy,
  type HardwareInfo,
  type OutletController,
} from "./outlet-controller.ts";
import { LinkError, Receipt, type LinkCounters, type RegisterClient } from "./register-client.ts";

const POLICY_CODES: Record<ColdStartPolicy, number> = {
  off: ColdPolicy.OFF,
  on: ColdPolicy.ON,
  last: ColdPolicy.LAST,
};
const POLICY_NAMES: Record<number, ColdStartPolicy> = {
  [ColdPolicy.OFF]: "off",
  [ColdPolicy.ON]: "on",
  [ColdPolicy.LAST]: "last",
};
const RESET_NAMES = Object.fromEntries(
  Object.entries(ResetCause).map(([k, v]) => [v, k.toLowerCase().replace("_", "-")]),
);

export class RegisterOutletController implements OutletController {
  private count = CHANNELS;

  constructor(
    private readonly client: RegisterClient,
    private readonly kind: HardwareInfo["kind"],
    private readonly close_: () => Promise<void>,
  ) {}

  get outletCount(): number {
    return this.count;
  }

  async describe(): Promise<HardwareInfo> {
    const id = await this.link(() => this.client.read(Reg.MAGIC, 8));
    const magic = (id[0] ?? 0) | ((id[1] ?? 0) << 8);
    if (magic !== DEVICE_MAGIC) {
      throw new HardwareError(
        "not_pipdu",
        `device at 0x${this.client.address.toString(16)} is not a piPDU (id 0x${magic.toString(16)})`,
      );
    }
    this.count = id[6] ?? 0;
    this.client.receipts &&= (id[2] ?? 0) >= 2; // protocol 1 firmware does not point at a write's receipt
    return {
      kind: this.kind,
      protocolVersion: id[2] ?? 0,
      firmwareVersion: `${id[3] ?? 0}.${id[4] ?? 0}.${id[5] ?? 0}`,
      outletCount: this.count,
      resetCause: RESET_NAMES[id[7] ?? 4] ?? "unknown",
    };
  }

  async readRelays(): Promise<boolean[]> {
    return this.toStates(await this.link(() => this.client.readU16(Reg.RELAY_STATE)));
  }

  /** Two transactions when the write sequence is known: the frame, and its receipt with RELAY_STATE in it. */
  async setRelay(outlet: number, on: boolean): Promise<boolean[]> {
    const bit = 1 << (outlet - 1);
    let receipt: Uint8Array;
    try {
      receipt = await this.client.writeU16(on ? Reg.RELAY_ON : Reg.RELAY_OFF, bit);
    } catch (err) {
      throw this.wrap(err);
    }
    const states = this.toStates(
      (receipt[Receipt.RELAY_STATE] ?? 0) | ((receipt[Receipt.RELAY_STATE + 1] ?? 0) << 8),
    );
    if (states[outlet - 1] !== on) {
      throw new HardwareError(
        "unverified",
        `outlet ${outlet} reads ${on ? "OFF" : "ON"} after switching ${on ? "ON" : "OFF"}`,
      );
    }
    return states;
  }

  async readCurrents(): Promise<number[]> {
    const half = Math.min(this.count, 8);
    const first = await this.link(() => this.client.read(Reg.IRMS, half * 2));
    const rest =
      this.count > 8
        ? await this.link(() => this.client.read(Reg.IRMS + 16, (this.count - 8) * 2))
        : new Uint8Array();
    const bytes = Uint8Array.of(...first, ...rest);
    const amps: number[] = [];
    for (let i = 0; i < this.count; i++)
      amps.push(((bytes[2 * i] ?? 0) | ((bytes[2 * i + 1] ?? 0) << 8)) / 1000);
    return amps;
  }

  /** RELAY_SET reads what the outlets will be once the cold-start delays ran; the difference is pending. */
  async readColdStartPending(): Promise<boolean[]> {
    const b = await this.link(() => this.client.read(Reg.RELAY_STATE, 4));
    const state = (b[0] ?? 0) | ((b[1] ?? 0) << 8);
    const requested = (b[2] ?? 0) | ((b[3] ?? 0) << 8);
    return this.toStates(requested & ~state);
  }

  async readColdPolicies(): Promise<ColdStartPolicy[]> {
    const bytes = await this.link(() => this.client.read(Reg.COLD_POLICY, this.count));
    // A value the firmware should never hold reads as "last": what it does after any other reset.
    return Array.from(bytes, (b) => POLICY_NAMES[b] ?? "last");
  }

  async setColdPolicy(outlet: number, policy: ColdStartPolicy): Promise<ColdStartPolicy[]> {
    try {
      await this.client.write(Reg.COLD_POLICY + outlet - 1, Uint8Array.of(POLICY_CODES[policy]));
      await this.client.write(Reg.COMMAND, Uint8Array.of(Command.SAVE_CONFIG));
    } catch (err) {
      throw this.wrap(err);
    }
    const policies = await this.readColdPolicies();
    if (policies[outlet - 1] !== policy) {
      throw new HardwareError(
        "unverified",
        `outlet ${outlet} cold-start policy reads ${policies[outlet - 1] ?? "nothing"} after writing ${policy}`,
      );
    }
    return policies;
  }

  counters(): LinkCounters {
    return { ...this.client.counters };
  }

  close(): Promise<void> {
    return this.close_();
  }

  private toStates(mask: number): boolean[] {
    return Array.from({ length: this.count }, (_, i) => (mask & (1 << i)) !== 0);
  }

  private async link<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.wrap(err);
    }
  }

  private wrap(err: unknown): Error {
    if (err instanceof LinkError) return new HardwareError("link", `I2C link: ${err.message}`);
    return err instanceof Error ? err : new Error(String(err));
  }
}
