// npm run bench: every benchmark, one after the other, in one run (figures are comparable only side by side).
// The parts run as their own processes from the compiled build (npm run build first, as the script does).
import os from "node:os";
import { runAgentBenchmarks } from "./agent.ts";
import { run as runFleet } from "./fleet.ts";
import { runGatewayBenchmarks } from "./gateway.ts";
import { runMemoryBenchmark } from "./memory.ts";
import { runPdudaemonBenchmark } from "./pdudaemon.ts";

const only = process.env["BENCH_ONLY"];
const benches: [string, () => Promise<string>][] = [
  ["pdudaemon", runPdudaemonBenchmark],
  ["agent", runAgentBenchmarks],
  ["memory", runMemoryBenchmark],
  ["gateway", runGatewayBenchmarks],
  ["fleet", runFleet],
];
const sections: string[] = [`## Run of ${new Date().toISOString()} on ${os.cpus().length} cores`];
for (const [name, bench] of benches) {
  if (only !== undefined && only !== name) continue;
  sections.push("", await bench());
}
console.log(sections.join("\n"));
