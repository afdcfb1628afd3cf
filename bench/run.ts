// npm run bench: every benchmark, one after the other, in one run (figures are comparable only side by side).
import fs from "node:fs";
import { runAgentBenchmarks } from "./agent.ts";

const sections: string[] = [
  `## Run of ${new Date().toISOString()} on ${(await import("node:os")).cpus().length} cores`,
  "",
  await runAgentBenchmarks(),
];

// Benchmarks of other parts, where present: each module exports run(): Promise<string> (markdown).
for (const name of ["gateway", "fleet"]) {
  const file = new URL(`./${name}.ts`, import.meta.url);
  if (!fs.existsSync(file) || (process.env["BENCH_ONLY"] && process.env["BENCH_ONLY"] !== name)) continue;
  const mod = (await import(file.href)) as { run?: () => Promise<string> };
  if (mod.run) sections.push("", await mod.run());
}
console.log(sections.join("\n"));
