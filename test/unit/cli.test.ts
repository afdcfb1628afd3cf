// The command line as an operator meets it: help and version for every command without side effects,
// unknown options refused with a suggestion, errors that name the flag that was typed.
import test from "ava";
import { COMMANDS, GROUPS } from "../../cli/commands.ts";
import type { NetworkInterfaceInfo } from "node:os";
import { main, version } from "../../cli/main.ts";
import { pageUrl } from "../../cli/run.ts";

/** Runs pipdu in this process, capturing what it prints. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const log = console.log;
  const error = console.error;
  let out = "";
  let err = "";
  console.log = (...a: unknown[]) => (out += `${a.join(" ")}\n`);
  console.error = (...a: unknown[]) => (err += `${a.join(" ")}\n`);
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const everyCommand = COMMANDS.map((c) => c.name);

test.serial(
  "every command and sub-command answers --help and -h with usage, options and an example",
  async (t) => {
    for (const name of everyCommand) {
      for (const flag of ["--help", "-h"]) {
        const r = await run([...name.split(" "), flag]);
        t.is(r.code, 0, `${name} ${flag}`);
        t.is(r.err, "", `${name} ${flag}`);
        t.true(r.out.startsWith(`usage: pipdu ${name}`), `${name} ${flag}: ${r.out}`);
        t.regex(r.out, /\noptions:\n {2}\S/, name);
        t.regex(r.out, new RegExp(`\\nexamples?:\\n {2}.*pipdu ${name}`), name);
      }
    }
  },
);

test.serial("pipdu help <command> shows that command's help", async (t) => {
  const r = await run(["help", "ha", "remove"]);
  t.is(r.code, 0);
  t.true(r.out.startsWith("usage: pipdu ha remove"));
});

test.serial("--help wins over every other argument, including settings that would fail", async (t) => {
  const r = await run(["pdu", "--broker.port", "99999", "--brokr.port", "1", "--help"]);
  t.is(r.code, 0);
  t.true(r.out.startsWith("usage: pipdu pdu"));
});

test.serial("pipdu, pipdu config and pipdu ha list their commands with --help", async (t) => {
  const top = await run(["--help"]);
  t.is(top.code, 0);
  for (const name of everyCommand) t.true(top.out.includes(`  ${name} `), name);
  for (const group of Object.keys(GROUPS)) {
    const r = await run([group, "--help"]);
    t.is(r.code, 0, group);
    t.true(r.out.startsWith(`usage: pipdu ${group} <`), group);
    t.regex(r.out, /\nexample:\n/);
  }
});

test.serial("--version and -V print the package version, at the top and after any command", async (t) => {
  t.regex(version(), /^\d+\.\d+\.\d+/);
  const groups = Object.keys(GROUPS).map((g) => [g, "--version"]);
  for (const argv of [
    ["--version"],
    ["-V"],
    ...groups,
    ...everyCommand.map((n) => [...n.split(" "), "--version"]),
  ]) {
    const r = await run(argv);
    t.is(r.code, 0, argv.join(" "));
    t.is(r.out, `pipdu ${version()}\n`, argv.join(" "));
  }
});

test.serial("an unknown option is refused with the setting it most likely meant", async (t) => {
  const r = await run(["config", "check", "--brokr.port", "1"]);
  t.is(r.code, 2);
  t.is(r.out, "");
  t.regex(r.err, /--brokr\.port: unknown option \(did you mean --broker\.port\?\)/);
  const sim = await run(["sim", "--pdu", "3"]);
  t.is(sim.code, 2);
  t.regex(sim.err, /--pdu: unknown option \(did you mean --pdus\?\)/);
});

test.serial("a wrong value given as a flag is reported under the flag's name", async (t) => {
  const r = await run(["config", "check", "--broker.port", "99999"]);
  t.is(r.code, 2);
  t.regex(r.err, /broker\.port \(--broker\.port\) = 99999: must be a TCP port from 0 to 65535/);
  t.false(r.err.includes("PIPDU_BROKER_PORT"));
});

test.serial("a mistyped command or sub-command is refused with a suggestion", async (t) => {
  const r = await run(["strat"]);
  t.is(r.code, 2);
  t.regex(r.err, /unknown command "strat" \(did you mean start\?\)/);
  const sub = await run(["config", "chek"]);
  t.is(sub.code, 2);
  t.regex(sub.err, /unknown sub-command "chek": use check or print/);
});

test.serial("config check refuses an unknown PIPDU_ variable and names the likely one", async (t) => {
  process.env["PIPDU_BROKR_PORT"] = "1";
  try {
    const r = await run(["config", "check"]);
    t.is(r.code, 2);
    t.is(r.out, "");
    t.regex(r.err, /PIPDU_BROKR_PORT is not a setting and is ignored \(did you mean PIPDU_BROKER_PORT\?\)/);
  } finally {
    delete process.env["PIPDU_BROKR_PORT"];
  }
});

test.serial("passwd refuses an option instead of taking it for a file name", async (t) => {
  const r = await run(["passwd", "--force", "users", "alice"]);
  t.is(r.code, 2);
  t.regex(r.err, /unknown option --force/);
});

test("Home Assistant's link to the web page uses an address clients can reach, not the bare host name", (t) => {
  const interfaces = {
    lo: [{ address: "127.0.0.1", family: "IPv4", internal: true }],
    eth0: [
      { address: "fe80::1", family: "IPv6", internal: false },
      { address: "192.168.1.40", family: "IPv4", internal: false },
    ],
  } as unknown as NodeJS.Dict<NetworkInterfaceInfo[]>;
  t.is(pageUrl("0.0.0.0", 8080, interfaces), "http://192.168.1.40:8080/");
  t.is(pageUrl("10.0.0.5", 8080, interfaces), "http://10.0.0.5:8080/");
  t.is(pageUrl("::1", 8080, interfaces), "http://[::1]:8080/");
  t.is(pageUrl("0.0.0.0", 8080, { lo: interfaces["lo"] }), "http://127.0.0.1:8080/");
});
