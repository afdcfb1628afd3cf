// PDUDaemon's `snmpv1` / `snmpv3` with its keys: `community`, or `username` + `authpassphrase` / `privpassphrase`
// with pysnmp's `auth_protocol` / `priv_protocol` names; the object as `oid` with `*` for the port, or as
// `mib` + `controlpoint` for the MIB objects piPDU knows (APC PowerNet); `onsetting` / `offsetting`.
// After a set the same object is read back; where the agent does not let it be read, the state piPDU set is kept.
import snmp from "net-snmp";
import type { DeviceIo } from "./driver-controller.ts";
import { ownEntry, splitHostPort, type DriverOptions } from "./options.ts";

/** MIB objects by name (PDUDaemon resolves MIBs through pysnmp; piPDU knows the ones PDUs use). */
export const KNOWN_OBJECTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "PowerNet-MIB": {
    // Older APC switched PDUs (AP79xx): 1 on, 2 off, 3 reboot; reads 1 on, 2 off.
    sPDUOutletCtl: "1.3.6.1.4.1.318.1.1.4.4.2.1.3",
    // rPDU (AP78xx, AP89xx) outlet control: 1 immediateOn, 2 immediateOff, 3 immediateReboot; reads 1 on, 2 off.
    rPDUOutletControlOutletCommand: "1.3.6.1.4.1.318.1.1.12.3.3.1.1.4",
    rPDUOutletControl: "1.3.6.1.4.1.318.1.1.12.3.3.1.1.4",
  },
};

const AUTH: Record<string, snmp.AuthProtocols> = {
  usmNoAuthProtocol: snmp.AuthProtocols.none,
  usmHMACMD5AuthProtocol: snmp.AuthProtocols.md5,
  usmHMACSHAAuthProtocol: snmp.AuthProtocols.sha,
  usmHMAC128SHA224AuthProtocol: snmp.AuthProtocols.sha224,
  usmHMAC192SHA256AuthProtocol: snmp.AuthProtocols.sha256,
  usmHMAC256SHA384AuthProtocol: snmp.AuthProtocols.sha384,
  usmHMAC384SHA512AuthProtocol: snmp.AuthProtocols.sha512,
};
const PRIV: Record<string, snmp.PrivProtocols> = {
  usmNoPrivProtocol: snmp.PrivProtocols.none,
  usmDESPrivProtocol: snmp.PrivProtocols.des,
  usmAesCfb128Protocol: snmp.PrivProtocols.aes,
  usmAesCfb256Protocol: snmp.PrivProtocols.aes256r,
  usmAesBlumenthalCfb256Protocol: snmp.PrivProtocols.aes256b,
};

type SnmpSession = ReturnType<typeof snmp.createSession>;

export class Snmp implements DeviceIo {
  private readonly session: SnmpSession;
  private readonly template: string;
  private readonly on: number;
  private readonly off: number;
  /** piPDU's `current_oid` (with `*`) and `current_scale`: a metered-current column, where the PDU has one. */
  private readonly current: { template: string; scale: number } | null;
  /** null until the first read says whether the agent lets the object be read. */
  private readable: boolean | null = null;
  /** Why the last datagram could not be decoded; net-snmp reports it as an "error" event, fatal unheard. */
  private garbled: string | null = null;

  constructor(
    options: DriverOptions,
    version: "snmpv1" | "snmpv3",
    private readonly outletCount = 8,
  ) {
    this.template = objectTemplate(options);
    this.on =
      options.integer("onsetting", null, -2147483648, 2147483647) ?? options.fail('"onsetting" is required');
    this.off =
      options.integer("offsetting", null, -2147483648, 2147483647) ??
      options.fail('"offsetting" is required');
    if (this.on === this.off)
      options.fail('"onsetting" and "offsetting" must differ, or no state could be read back');
    const currentOid = options.string("current_oid");
    this.current =
      currentOid === null
        ? null
        : {
            template: numericOid(options, "current_oid", currentOid),
            scale: options.number("current_scale", 1, 0, 1000),
          };
    const { host, port } = splitHostPort(options.hostname, 161);
    if (port < 1 || port > 65535) options.fail("the port after the host must be 1 to 65535");
    const common = { port, retries: 1, timeout: 2000 };
    if (version === "snmpv1") {
      const community = options.string("community") ?? options.fail('snmpv1 needs a "community"');
      this.session = snmp.createSession(host, community, { ...common, version: snmp.Version1 });
    } else {
      const name = options.string("username") ?? options.fail('snmpv3 needs a "username"');
      this.session = snmp.createV3Session(host, v3User(options, name), { ...common, version: snmp.Version3 });
    }
    this.session.on("error", (err: Error) => {
      this.garbled = err.message.slice(0, 100);
    });
  }

  /** The object of one outlet: `*` in the template is the port, as upstream. */
  oidFor(outlet: number): string {
    return this.template.replaceAll("*", String(outlet));
  }

  async switch(outlet: number, on: boolean): Promise<void> {
    const oid = this.oidFor(outlet);
    await new Promise<void>((resolve, reject) => {
      this.session.set(
        [{ oid, type: snmp.ObjectType.Integer, value: on ? this.on : this.off }],
        (err, varbinds) => {
          const bad = varbinds?.find((vb) => snmp.isVarbindError(vb));
          if (err) reject(new Error(`SNMP set ${oid}: ${this.why(err)}`));
          else if (bad) reject(new Error(`SNMP set ${oid}: ${snmp.varbindError(bad)}`));
          else resolve();
        },
      );
    });
  }

  async read(): Promise<(boolean | null)[]> {
    if (this.readable === false) return [];
    const oids = Array.from({ length: this.outletCount }, (_, i) => this.oidFor(i + 1));
    try {
      const varbinds = await new Promise<snmp.Varbind[]>((resolve, reject) => {
        this.session.get(oids, (err, vbs) => (err ? reject(err) : resolve(vbs ?? [])));
      });
      this.readable = true;
      return varbinds.map((vb) => {
        if (snmp.isVarbindError(vb) || typeof vb.value !== "number") return null;
        return vb.value === this.on ? true : vb.value === this.off ? false : null;
      });
    } catch (err) {
      // noSuchName / noAccess from the agent: the object is write-only here, which is fine (the state set is kept).
      if (this.readable === null && err instanceof snmp.RequestFailedError) {
        this.readable = false;
        return [];
      }
      throw new Error(`SNMP get: ${this.why(err as Error)}`);
    }
  }

  async currents(): Promise<number[]> {
    const current = this.current;
    if (current === null) return [];
    const oids = Array.from({ length: this.outletCount }, (_, i) =>
      current.template.replaceAll("*", String(i + 1)),
    );
    const varbinds = await new Promise<snmp.Varbind[]>((resolve, reject) => {
      this.session.get(oids, (err, vbs) =>
        err ? reject(new Error(`SNMP get current: ${this.why(err)}`)) : resolve(vbs ?? []),
      );
    });
    return varbinds.map((vb) =>
      !snmp.isVarbindError(vb) && typeof vb.value === "number" ? vb.value * current.scale : 0,
    );
  }

  /** A timeout after answers that were not SNMP says so. */
  private why(err: Error): string {
    const garbled = this.garbled;
    this.garbled = null;
    return garbled === null ? err.message : `${err.message} (answer is not SNMP: ${garbled})`;
  }

  close(): Promise<void> {
    this.session.close();
    return Promise.resolve();
  }
}

function objectTemplate(options: DriverOptions): string {
  const oid = options.string("oid");
  const mib = options.string("mib");
  if ((oid === null) === (mib === null)) options.fail('needs either "oid" or "mib" + "controlpoint"');
  if (oid !== null) return numericOid(options, "oid", oid);
  const point = options.requiredString("controlpoint");
  const objects = ownEntry(KNOWN_OBJECTS, mib ?? "");
  const base = objects === undefined ? undefined : ownEntry(objects, point);
  if (base === undefined)
    options.fail(
      `"${mib ?? ""}::${point}" is not a MIB object piPDU knows; give its numeric "oid" with * for the port`,
    );
  // Upstream appends the port (or fills `*` with it when inside_number is set, plus static_ending).
  const ending = options.integer("static_ending", null, 0, 2 ** 31);
  return options.has("inside_number") ? `${base}.*${ending === null ? "" : `.${ending}`}` : `${base}.*`;
}

function numericOid(options: DriverOptions, key: string, oid: string): string {
  const clean = oid.replace(/^\./, "");
  if (!/^[0-9]+(\.([0-9]+|\*))+$/.test(clean))
    options.fail(`"${key}" must be numeric with * for the port, such as .1.3.6.1.4.1.318.1.1.4.4.2.1.3.*`);
  return clean;
}

function v3User(options: DriverOptions, name: string): snmp.User {
  const authKey = options.string("authpassphrase");
  const privKey = options.string("privpassphrase");
  const authName = options.string("auth_protocol");
  const privName = options.string("priv_protocol");
  const pick = <T>(table: Record<string, T>, key: string, value: string | null, fallback: T): T => {
    if (value === null) return fallback;
    const found = ownEntry(table, value);
    if (found === undefined) options.fail(`"${key}" ${value} is not one of ${Object.keys(table).join(", ")}`);
    return found;
  };
  // pysnmp's defaults: MD5 when only a pass phrase is given, DES for privacy.
  const authProtocol = pick(
    AUTH,
    "auth_protocol",
    authName,
    authKey === null ? snmp.AuthProtocols.none : snmp.AuthProtocols.md5,
  );
  const privProtocol = pick(
    PRIV,
    "priv_protocol",
    privName,
    privKey === null ? snmp.PrivProtocols.none : snmp.PrivProtocols.des,
  );
  // Privacy without authentication does not exist in SNMPv3: quietly sending in clear text would be worse.
  if (authKey === null && privKey !== null) options.fail('"privpassphrase" needs an "authpassphrase"');
  if (authKey === null) return { name, level: snmp.SecurityLevel.noAuthNoPriv };
  if (privKey === null) return { name, level: snmp.SecurityLevel.authNoPriv, authProtocol, authKey };
  return { name, level: snmp.SecurityLevel.authPriv, authProtocol, authKey, privProtocol, privKey };
}
