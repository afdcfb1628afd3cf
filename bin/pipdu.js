#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx): no build step between a change and a running PDU.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
