// A broker that comes back refusing the agent (its password file changed, anonymous access turned off) must
// not end the agent: the refusal is logged and the agent keeps retrying until it is let in again.
import { spawn, type ChildProcess } from "node:child_process";
import test from "ava";
import { collectMessages, connectClient } from "../helpers/mqtt-clients.ts";
import { recordingLogger } from "../helpers/recording-logger.ts";
import {
  eventually,
  freePort,
  hasMosquitto,
  startAgent,
  tempDir,
  testSettings,
  waitForPort,
  writeMosquittoConf,
} from "../helpers/system.ts";

(hasMosquitto ? test : test.skip)(
  "[mosquitto] a broker restarted to refuse the agent does not end it; it is back online once let in",
  async (t) => {
    const dir = tempDir(t);
    const port = await freePort();
    let proc: ChildProcess | null = null;
    const run = async (extra: string[]) => {
      const conf = writeMosquittoConf(dir, port, extra);
      proc = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
      await waitForPort(port);
    };
    const stop = async () => {
      const p = proc;
      proc = null;
      if (!p || p.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        p.once("exit", () => resolve());
        p.kill("SIGTERM");
      });
    };
    t.teardown(stop);
    await run([]);
    const { logger, lines } = recordingLogger();
    const url = `mqtt://127.0.0.1:${port}`;
    await startAgent(t, testSettings(t, { mqtt: { url } }), [], { logger });

    await stop();
    // Anonymous clients refused from now on (a later allow_anonymous line wins).
    await run(["allow_anonymous false"]);
    await eventually("the refusal logged", () =>
      lines.find((l) => /MQTT: .*(authori[sz]ed|refused)/i.test(l)),
    );

    await stop();
    await run([]);
    const client = await connectClient(t, url, { protocolVersion: 4 });
    const seen = collectMessages(client);
    await client.subscribeAsync("pipdu/pdu1/availability", { qos: 1 });
    await eventually("online again", () => (seen.at(-1)?.payload === "online" ? true : undefined));
    t.is(seen.at(-1)?.payload, "online");
  },
);
