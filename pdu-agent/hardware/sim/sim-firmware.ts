// A simulated Mega: the firmware's register file and frame handling (docs/i2c-protocol.md), byte for byte,
// with outlets that draw current from configurable loads. Clock and randomness are injected.
import { crc8 } from "../../../protocol/crc8.ts";
import {
  CHANNELS,
  DEVICE_MAGIC,
  MAX_READ,
  MAX_WRITE,
  PROTOCOL_VERSION,
  RECEIPT_LEN,
  Reg,
  ResetCause,
  Status,
  WriteStatus,
  isWritable,
} from "../../../protocol/register-map.ts";
import type { SimLoad } from "../../../config/outlets.ts";

export const SIM_FIRMWARE_VERSION = [1, 0, 0] as const;
const INRUSH_SECONDS = 0.6;

export interface SimFirmwareOptions {
  address: number;
  outletCount: number;
  loads: SimLoad[];
  initialRelays: number;
  /** Used to turn simulated watts into the amperes the sensors would see. */
  voltage: number;
  powerFactor: number;
  now?: () => number;
  random?: () => number;
  /** 1 simulates firmware from before write receipts (the read pointer stays where a read left it). */
  protocolVersion?: 1 | 2;
  /** Keeps the relays where they outlive the process; the next transaction waits until it resolves. */
  onRelayChange?: (mask: number) => Promise<void> | void;
}

export class SimFirmware {
  readonly address: number;
  private readonly regs = new Uint8Array(Reg.END);
  private pointer = { reg: 0, len: 0, valid: false };
  private readonly switchedOnAt = new Array<number>(CHANNELS).fill(-Infinity);
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly startedAt: number;
  private lastHostContact: number;
  private persisting: Promise<void> = Promise.resolve();

  constructor(private readonly options: SimFirmwareOptions) {
    this.address = options.address;
    this.now = options.now ?? (() => Date.now());
    this.random = options.random ?? Math.random;
    this.startedAt = this.now();
    this.lastHostContact = this.startedAt;
    this.setU16(Reg.MAGIC, DEVICE_MAGIC);
    this.regs[Reg.PROTOCOL] = options.protocolVersion ?? PROTOCOL_VERSION;
    [this.regs[Reg.FW_MAJOR], this.regs[Reg.FW_MINOR], this.regs[Reg.FW_PATCH]] = SIM_FIRMWARE_VERSION;
    this.regs[Reg.OUTLET_COUNT] = options.outletCount;
    this.regs[Reg.RESET_CAUSE] = ResetCause.EXTERNAL; // relays kept from before, as after a reset
    this.regs[Reg.STATUS] = Status.ADC_RUNNING;
    this.regs[Reg.MAINS_HZ] = 50;
    this.regs[Reg.CYCLES] = 10;
    for (let ch = 0; ch < CHANNELS; ch++) {
      this.regs[Reg.COLD_POLICY + ch] = 2;
      this.setU16(Reg.CAL_GAIN + 2 * ch, 48828);
      this.setU16(Reg.NOISE_FLOOR + 2 * ch, 40);
    }
    const mask = options.initialRelays & this.fittedMask();
    this.setU16(Reg.RELAY_STATE, mask);
    this.setU16(Reg.RELAY_SET, mask);
  }

  /** Change an outlet's simulated load (1-based outlet). */
  setLoad(outlet: number, load: SimLoad): void {
    this.options.loads[outlet - 1] = load;
  }

  get relayMask(): number {
    return this.u16(Reg.RELAY_STATE);
  }

  /** Resolves when the relays last switched are kept (the bus serves the next transaction after it). */
  idle(): Promise<void> {
    return this.persisting;
  }

  /** A master write transaction addressed to us. */
  receive(bytes: Uint8Array): void {
    if (bytes.length === 2) {
      this.pointer = {
        reg: bytes[0] ?? 0,
        len: bytes[1] ?? 0,
        valid: (bytes[1] ?? 0) >= 1 && (bytes[1] ?? 0) <= MAX_READ,
      };
      this.lastHostContact = this.now();
      return;
    }
    if (bytes.length < 3) return;
    if (this.regs[Reg.PROTOCOL] !== 1) this.pointer = { reg: Reg.LAST_WRITE, len: RECEIPT_LEN, valid: true }; // the frame's receipt
    const status = this.applyWrite(bytes);
    this.regs[Reg.LAST_WRITE] = status;
    if (status === WriteStatus.OK) {
      this.regs[Reg.WRITE_SEQ] = ((this.regs[Reg.WRITE_SEQ] ?? 0) + 1) & 0xff;
      this.lastHostContact = this.now();
    }
  }

  /** A master read transaction: the bytes the firmware would clock out. */
  request(length: number): Uint8Array {
    const { reg, len, valid } = this.pointer;
    const out = new Uint8Array(length).fill(0xff);
    if (!valid) {
      out[0] = 0; // as Arduino Wire answers with no reply prepared
      return out;
    }
    this.refresh(reg, len);
    const reply = new Uint8Array(len + 1);
    for (let i = 0; i < len; i++) reply[i] = reg + i < Reg.END ? (this.regs[reg + i] ?? 0) : 0;
    reply[len] = crc8(reply.subarray(0, len), crc8([(this.address << 1) | 1, reg, len]));
    out.set(reply.subarray(0, Math.min(length, reply.length)));
    return out;
  }

  private applyWrite(frame: Uint8Array): number {
    const reg = frame[0] ?? 0;
    const len = frame[1] ?? 0;
    if (len > MAX_WRITE) return WriteStatus.OUT_OF_RANGE;
    if (len < 1 || frame.length !== len + 3) return WriteStatus.BAD_LENGTH;
    const crc = crc8([this.address << 1, ...frame.subarray(0, len + 2)]);
    if (crc !== frame[len + 2]) {
      this.setU16(Reg.CRC_ERRORS, Math.min(0xffff, this.u16(Reg.CRC_ERRORS) + 1));
      return WriteStatus.BAD_CRC;
    }
    if (reg + len > Reg.END) return WriteStatus.OUT_OF_RANGE;
    if (!isWritable(reg, len)) return WriteStatus.READ_ONLY;
    const data = frame.subarray(2, 2 + len);
    const value = (i: number): number => (data[i] ?? 0) | ((data[i + 1] ?? 0) << 8);
    if (reg === Reg.RELAY_SET || reg === Reg.RELAY_ON || reg === Reg.RELAY_OFF) {
      if (len !== 2) return WriteStatus.BAD_LENGTH;
      const bits = value(0);
      if ((bits & ~this.fittedMask()) !== 0) return WriteStatus.BAD_VALUE;
      const current = this.relayMask;
      const next = reg === Reg.RELAY_SET ? bits : reg === Reg.RELAY_ON ? current | bits : current & ~bits;
      this.setRelays(next);
      return WriteStatus.OK;
    }
    if (reg === Reg.MAINS_HZ && data[0] !== 50 && data[0] !== 60) return WriteStatus.BAD_VALUE;
    if (
      reg <= Reg.CYCLES &&
      reg + len > Reg.CYCLES &&
      ((data[Reg.CYCLES - reg] ?? 0) < 1 || (data[Reg.CYCLES - reg] ?? 0) > 25)
    ) {
      return WriteStatus.BAD_VALUE;
    }
    if (reg === Reg.COMMAND) {
      if ((data[0] ?? 0) > 2) return WriteStatus.BAD_VALUE;
      if (data[0] === 2) this.setU16(Reg.CRC_ERRORS, 0);
      return WriteStatus.OK;
    }
    this.regs.set(data, reg);
    return WriteStatus.OK;
  }

  private setRelays(mask: number): void {
    const before = this.relayMask;
    const t = this.now();
    for (let ch = 0; ch < CHANNELS; ch++) {
      if ((mask & (1 << ch)) !== 0 && (before & (1 << ch)) === 0) this.switchedOnAt[ch] = t;
    }
    this.setU16(Reg.RELAY_STATE, mask);
    this.setU16(Reg.RELAY_SET, mask);
    if (mask !== before) {
      const kept = this.options.onRelayChange?.(mask);
      if (kept) this.persisting = kept.catch(() => undefined); // a failed write is the writer's to report
    }
  }

  /** What loop() does between transactions: new measurements, counters (only what a read of reg..reg+len sees). */
  private refresh(reg: number, len: number): void {
    const t = this.now();
    this.setU32(Reg.UPTIME, Math.floor((t - this.startedAt) / 1000));
    this.setU16(Reg.HOST_SILENT, Math.min(0xffff, Math.floor((t - this.lastHostContact) / 1000)));
    if (reg + len <= Reg.IRMS || reg >= Reg.COLD_POLICY) return; // no current or sample counter in it
    const mask = this.relayMask;
    for (let ch = 0; ch < this.options.outletCount; ch++) {
      const load = this.options.loads[ch];
      let watts = 0;
      if ((mask & (1 << ch)) !== 0 && load) {
        const sinceOn = (t - (this.switchedOnAt[ch] ?? -Infinity)) / 1000;
        const inrush = sinceOn < INRUSH_SECONDS ? load.inrush * (1 - sinceOn / INRUSH_SECONDS) : 0;
        watts = Math.max(0, load.watts + inrush + (this.random() * 2 - 1) * load.noise);
      }
      const milliamps = Math.round((watts / (this.options.voltage * this.options.powerFactor)) * 1000);
      this.setU16(Reg.IRMS + 2 * ch, Math.min(0xffff, milliamps));
      this.setU16(Reg.SAMPLE_SEQ + 2 * ch, (this.u16(Reg.SAMPLE_SEQ + 2 * ch) + 1) & 0xffff);
    }
  }

  private fittedMask(): number {
    return (1 << this.options.outletCount) - 1;
  }
  private u16(reg: number): number {
    return (this.regs[reg] ?? 0) | ((this.regs[reg + 1] ?? 0) << 8);
  }
  private setU16(reg: number, v: number): void {
    this.regs[reg] = v & 0xff;
    this.regs[reg + 1] = (v >> 8) & 0xff;
  }
  private setU32(reg: number, v: number): void {
    this.setU16(reg, v & 0xffff);
    this.setU16(reg + 2, Math.floor(v / 0x10000) & 0xffff);
  }
}
