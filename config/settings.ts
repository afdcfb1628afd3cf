// The validated configuration as the code sees it (README: Configuration). Mirrors config/schema.ts.
import type { OutletConfig } from "./outlets.ts";
import type { PanelSettings } from "./panel-schema.ts";

export interface Settings {
  config: string | null;
  stateDir: string;
  pdu: { id: string; name: string; outletCount: number };
  outlets: OutletConfig[];
  mqtt: {
    url: string;
    username: string | null;
    password: string | null;
    baseTopic: string;
    protocol: "auto" | "5" | "3.1.1";
    caFile: string | null;
  };
  broker: {
    enabled: boolean;
    host: string;
    port: number;
    wsPort: number;
    allowAnonymous: boolean;
    passwordFile: string | null;
    aclFile: string | null;
    partUsers: string[];
    retainTopics: string[];
    maxPacketSize: number;
    maxConnections: number;
    maxConnectionsPerAddress: number;
    wsOrigins: string[];
    tls: { port: number; certFile: string | null; keyFile: string | null };
  };
  sim: { faultRate: number; busClock: number };
  safety: {
    maxCurrent: number;
    overloadHold: number;
    shed: boolean;
    staggerDelay: number;
    checkWindow: number;
    loadThreshold: number;
  };
  hardware: "auto" | "i2c" | "sim";
  i2c: { bus: number; address: number };
  mains: { voltage: number; powerFactor: number; frequency: number };
  telemetry: {
    interval: number;
    maxAge: number;
    deadband: { power: number; current: number; energy: number };
  };
  commands: { defaultCycleDelay: number; maxDelay: number; maxPending: number };
  energy: { saveInterval: number };
  http: { port: number };
  /** config and pdus: driver-backed PDUs (docs/drivers.md); always set by the schema. */
  pdudaemon: { port: number; config?: string | null; pdus?: Record<string, unknown> };
  gateway: {
    enabled: boolean;
    host: string;
    /** Extra host names, comma-separated. */
    hosts: string;
    token: string | null;
    aliases: Record<string, { hostname: string; port: string | number }>;
    requestTimeout: number;
    /** IANA zone for energy by day; null (or "") = the system's. */
    timezone: string | null;
  };
  ha: { discovery: boolean; discoveryPrefix: string; statusTopic: string; configurationUrl: string | null };
  panel: PanelSettings;
  log: { level: "error" | "warn" | "info" | "debug"; format: "text" | "json" };
}
