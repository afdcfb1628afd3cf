// PDU-wide values on their own retained topics, so Home Assistant (and anyone) reads them without templates:
// `total/power|current|energy` with the same deadbands as the outlets, and `diagnostics` (link errors, start time).
import { ChangeFilter } from "../pdu-agent/change-filter.ts";
import type { LinkCounters } from "../pdu-agent/hardware/register-client.ts";
import type { AgentContext, AgentPlugin } from "../pdu-agent/plugin.ts";
import { formatCurrent, formatEnergy, formatPower, type TelemetryPayload } from "../protocol/payloads.ts";
import type { TotalMetric } from "../protocol/topics.ts";

export interface DiagnosticsPayload {
  /** Failed I2C transactions since the agent started (CRC, NACK, I/O, short reads), retried or not. */
  linkErrors: number;
  /** Operations that failed after every retry. */
  linkFailures: number;
  startedAt: string;
}

export function diagnosticsOf(counters: LinkCounters, startedAt: number): DiagnosticsPayload {
  return {
    linkErrors: counters.crcErrors + counters.nacks + counters.ioErrors + counters.shortReads,
    linkFailures: counters.failures,
    startedAt: new Date(startedAt).toISOString(),
  };
}

export class PduReadings implements AgentPlugin {
  readonly name = "pdu-readings";
  private context: AgentContext | null = null;
  private filter: ChangeFilter | null = null;

  start(context: AgentContext): Promise<void> {
    this.context = context;
    this.filter = new ChangeFilter(context.settings.telemetry.maxAge * 1000);
    return Promise.resolve();
  }

  async announce(): Promise<void> {
    this.filter?.reset();
    if (this.context) await this.publish(this.context.telemetry(), Date.now());
  }

  polled(telemetry: TelemetryPayload): void {
    void this.publish(telemetry, Date.now());
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  private async publish(telemetry: TelemetryPayload, now: number): Promise<void> {
    const ctx = this.context;
    const filter = this.filter;
    if (!ctx || !filter || !ctx.isOnline()) return;
    const { deadband } = ctx.settings.telemetry;
    const pduId = ctx.settings.pdu.id;
    const { totals } = telemetry;
    const values: [TotalMetric, number, number, string][] = [
      ["power", totals.power, deadband.power, formatPower(totals.power)],
      ["current", totals.current, deadband.current, formatCurrent(totals.current)],
      ["energy", totals.energy, deadband.energy, formatEnergy(totals.energy)],
    ];
    const publishes: Promise<unknown>[] = [];
    for (const [metric, value, band, text] of values) {
      if (filter.offer(`total/${metric}`, value, band, now)) {
        publishes.push(
          ctx.client.publishAsync(ctx.topics.total(pduId, metric), text, { qos: 1, retain: true }),
        );
      }
    }
    const diagnostics = JSON.stringify(diagnosticsOf(ctx.linkCounters(), ctx.startedAt));
    if (filter.offer("diagnostics", diagnostics, 0, now)) {
      publishes.push(
        ctx.client.publishAsync(ctx.topics.diagnostics(pduId), diagnostics, { qos: 1, retain: true }),
      );
    }
    await Promise.all(publishes).catch((err: unknown) => {
      ctx.logger.warn(`PDU totals not published: ${(err as Error).message}`, { component: "mqtt" });
    });
  }
}
