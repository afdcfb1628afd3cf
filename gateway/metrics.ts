// Prometheus /metrics (prom-client): per-outlet power, current, energy and state, per-PDU availability,
// labelled by PDU, outlet number and outlet name, read from the live directory at scrape time.
// Link (I2C) error counters are not on the bus yet; pipdu_pdu_results_total counts the results each PDU
// published by code, so hardware_error results (a failed link during a command) are visible meanwhile.
import client from "prom-client";
import type { PduDirectory, PduView } from "../client/pdu-directory.ts";
import type { ResultPayload } from "../protocol/payloads.ts";
import type { CommandStats, OutcomeCode } from "./outlet-commands.ts";

const OUTLET_LABELS = ["pdu", "outlet", "name"] as const;

export class GatewayMetrics implements CommandStats {
  readonly registry = new client.Registry();
  private readonly results: client.Counter<"pdu" | "status" | "code">;
  private readonly requests: client.Counter<"api" | "outcome">;
  private readonly latency: client.Histogram<"api">;
  private readonly onResult = (pdu: string, result: ResultPayload): void => {
    this.results.inc({ pdu, status: result.status, code: result.error?.code ?? "none" });
  };

  constructor(private readonly directory: PduDirectory) {
    const registers = [this.registry];
    const pdus = (): PduView[] => directory.list().filter((p) => p.info);
    const perOutlet = (
      name: string,
      help: string,
      pick: (o: {
        state: "ON" | "OFF" | null;
        power: number | null;
        current: number | null;
        energy: number | null;
      }) => number | null,
    ): void => {
      new client.Gauge({
        name,
        help,
        labelNames: OUTLET_LABELS,
        registers,
        collect() {
          this.reset();
          for (const pdu of pdus()) {
            for (const o of pdu.outlets.values()) {
              const value = pick(o);
              if (value !== null) this.set({ pdu: pdu.id, outlet: String(o.number), name: o.name }, value);
            }
          }
        },
      });
    };
    perOutlet("pipdu_outlet_power_watts", "Power drawn by the outlet (W).", (o) => o.power);
    perOutlet("pipdu_outlet_current_amperes", "RMS current drawn by the outlet (A).", (o) => o.current);
    perOutlet("pipdu_outlet_state", "Relay state: 1 on, 0 off.", (o) =>
      o.state === null ? null : o.state === "ON" ? 1 : 0,
    );
    new client.Counter({
      name: "pipdu_outlet_energy_kwh_total",
      help: "Energy through the outlet since commissioning (kWh, never decreasing).",
      labelNames: OUTLET_LABELS,
      registers,
      collect() {
        this.reset();
        for (const pdu of pdus()) {
          for (const o of pdu.outlets.values())
            if (o.energy !== null && o.energy >= 0)
              this.inc({ pdu: pdu.id, outlet: String(o.number), name: o.name }, o.energy);
        }
      },
    });
    new client.Gauge({
      name: "pipdu_pdu_available",
      help: "1 while the PDU's agent is online and its hardware link works, else 0.",
      labelNames: ["pdu", "name"],
      registers,
      collect() {
        this.reset();
        for (const pdu of pdus()) this.set({ pdu: pdu.id, name: pdu.name }, pdu.online ? 1 : 0);
      },
    });
    new client.Counter({
      name: "pipdu_pdu_link_errors_total",
      help: "Failed I2C transactions between the Pi and the Mega since the agent started (retried or not).",
      labelNames: ["pdu", "name"],
      registers,
      collect() {
        this.reset();
        for (const pdu of pdus())
          if (pdu.linkErrors !== null) this.inc({ pdu: pdu.id, name: pdu.name }, pdu.linkErrors);
      },
    });
    new client.Counter({
      name: "pipdu_pdu_link_failures_total",
      help: "I2C operations that failed after every retry since the agent started.",
      labelNames: ["pdu", "name"],
      registers,
      collect() {
        this.reset();
        for (const pdu of pdus())
          if (pdu.linkFailures !== null) this.inc({ pdu: pdu.id, name: pdu.name }, pdu.linkFailures);
      },
    });
    new client.Gauge({
      name: "pipdu_pdu_info",
      help: "Always 1; labels carry the PDU's firmware, hardware and agent versions.",
      labelNames: ["pdu", "name", "firmware", "hardware", "agent"],
      registers,
      collect() {
        this.reset();
        for (const pdu of pdus()) {
          const info = pdu.info;
          if (info)
            this.set(
              {
                pdu: pdu.id,
                name: pdu.name,
                firmware: info.firmware.version,
                hardware: info.firmware.hardware,
                agent: info.agent.version,
              },
              1,
            );
        }
      },
    });
    new client.Counter({
      name: "pipdu_gateway_messages_dropped_total",
      help: "MQTT messages the gateway dropped: payload not valid for its topic, naming another PDU, directory full, answering nothing asked, or a handler failure (a bug; logged with its stack).",
      labelNames: ["kind", "reason"],
      registers,
      collect() {
        this.reset();
        for (const d of directory.guard.dropped()) this.inc({ kind: d.kind, reason: d.reason }, d.count);
      },
    });
    this.results = new client.Counter({
      name: "pipdu_pdu_results_total",
      help: "Command results each PDU published since the gateway started, by status and error code (hardware_error = link failure during a command).",
      labelNames: ["pdu", "status", "code"],
      registers,
    });
    this.requests = new client.Counter({
      name: "pipdu_gateway_commands_total",
      help: "Commands the gateway sent or refused, by API and outcome.",
      labelNames: ["api", "outcome"],
      registers,
    });
    this.latency = new client.Histogram({
      name: "pipdu_gateway_command_seconds",
      help: "Time from a switching request to the agent's result.",
      labelNames: ["api"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }

  start(): void {
    this.directory.on("result", this.onResult);
  }

  stop(): void {
    this.directory.off("result", this.onResult);
  }

  observe(api: string, outcome: OutcomeCode, seconds: number): void {
    this.requests.inc({ api, outcome });
    if (outcome === "ok") this.latency.observe({ api }, seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
