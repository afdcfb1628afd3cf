// The gateway keeps to docs/openapi.yaml: every answer it gives to a spread of right and wrong requests is a
// documented status for that path and method, with a documented content type, and a JSON body that passes
// the documented schema.
import SwaggerParser from "@apidevtools/swagger-parser";
import test from "ava";
import { Ajv2020 } from "ajv/dist/2020.js";
import path from "node:path";
import { ROOT, startAgent, startBroker, testSettings } from "../helpers/system.ts";
import { startGateway, waitForPdu } from "../gateway-harness.ts";

interface Response {
  description: string;
  content?: Record<string, { schema?: object }>;
}
interface Operation {
  responses: Record<string, Response>;
}
type PathItem = Record<string, Operation>;
interface Spec {
  paths: Record<string, PathItem>;
  "x-unmatched-path": { responses: Record<string, Response> };
}

const TOKEN = "contract-token";
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { "content-type": "application/json", ...auth };

/** [method, path and query, body, headers]: what clients send, right and wrong. */
const REQUESTS: [string, string, (string | undefined)?, Record<string, string>?][] = [
  ["GET", "/api"],
  ["POST", "/api", "{}", json],
  ["GET", "/api/pdus"],
  ["POST", "/api/pdus", "{}", json],
  ["GET", "/api/pdus/pdu1"],
  ["GET", "/api/pdus/nope"],
  ["POST", "/api/pdus/pdu1", "{}", json],
  ["GET", "/api/pdus/pdu1/outlets"],
  ["POST", "/api/pdus/pdu1/outlets", "{}", json],
  ["GET", "/api/pdus/pdu1/outlets/3"],
  ["GET", "/api/pdus/pdu1/outlets/router"],
  ["GET", "/api/pdus/pdu1/outlets/99"],
  ["POST", "/api/pdus/pdu1/outlets/3", '{"action":"on"}', json],
  ["POST", "/api/pdus/pdu1/outlets/3", '{"action":"on"}', { "content-type": "application/json" }],
  ["POST", "/api/pdus/pdu1/outlets/3", '{"action":"explode"}', json],
  ["POST", "/api/pdus/pdu1/outlets/1", '{"action":"off"}', json],
  ["POST", "/api/pdus/pdu1/outlets/3", `{"action":"on","pad":"${"x".repeat(70_000)}"}`, json],
  ["PUT", "/api/pdus/pdu1/outlets/3", '{"action":"on"}', json],
  ["POST", "/api/events", "{}", json],
  ["GET", "/api/nothing/here"],
  ["GET", "/api/openapi.yaml"],
  ["GET", "/power/control/on?hostname=pdu1&port=3", undefined, auth],
  ["GET", "/power/control/off?hostname=pdu1&port=3"],
  ["GET", "/power/control/on?hostname=nope&port=3", undefined, auth],
  ["POST", "/power/control/on?hostname=pdu1&port=3", "", auth],
  ["GET", "/power/status?hostname=pdu1"],
  ["GET", "/power/status?hostname=pdu1&port=3"],
  ["GET", "/power/status"],
  ["GET", "/power/status?hostname=nope"],
  ["POST", "/power/status?hostname=pdu1", ""],
  ["GET", "/power/nothing"],
  ["GET", "/metrics"],
  ["GET", "/healthz"],
  ["GET", "/"],
  ["GET", "/nothing"],
];

/** The documented path a request path falls under, if any ({pdu} matches one segment). */
function documentedPath(spec: Spec, pathname: string): string | undefined {
  return Object.keys(spec.paths).find((template) => {
    const pattern = template.replace(/\{[^}]+\}/g, "[^/]+").replace(/\./g, "\\.");
    return new RegExp(`^${pattern}$`).test(pathname);
  });
}

test("every answer of the gateway is documented in docs/openapi.yaml and matches its schema", async (t) => {
  const spec = (await SwaggerParser.dereference(path.join(ROOT, "docs/openapi.yaml"))) as unknown as Spec;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const broker = await startBroker(t, "embedded");
  const settings = testSettings(t, {
    mqtt: { url: broker.url },
    outlets: [{ name: "Switch", protected: true }, { name: "Router" }],
    gateway: { token: TOKEN, requestTimeout: 5 },
  });
  await startAgent(t, settings);
  const gw = await startGateway(t, settings);
  await waitForPdu(gw.base, "pdu1", 16);

  const statuses = new Set<number>();
  for (const [method, target, body, headers] of REQUESTS) {
    const what = `${method} ${target.slice(0, 60)}`;
    const response = await fetch(`${gw.base}${target}`, {
      method,
      ...(headers ? { headers } : {}),
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    statuses.add(response.status);
    const pathname = new URL(target, gw.base).pathname;
    const template = documentedPath(spec, pathname);
    const operation = template === undefined ? undefined : spec.paths[template]?.[method.toLowerCase()];
    let documented: Response | undefined;
    if (operation !== undefined) documented = operation.responses[String(response.status)];
    else {
      // An unlisted path or method: the documented answers for those.
      const unmatched = spec["x-unmatched-path"].responses;
      documented = Object.entries(unmatched).find(([status]) => {
        if (!status.startsWith(String(response.status))) return false;
        if (status === "404 under /api/") return pathname.startsWith("/api/");
        if (status === "404 elsewhere") return !pathname.startsWith("/api/");
        return true;
      })?.[1];
    }
    if (documented === undefined) {
      t.fail(`${what}: ${response.status} is not documented (${text.slice(0, 100)})`);
      continue;
    }
    const type = (response.headers.get("content-type") ?? "").split(";")[0] ?? "";
    const media = documented.content?.[type];
    t.not(media, undefined, `${what}: ${response.status} with ${type} is not documented`);
    if (type === "application/json" && media?.schema !== undefined) {
      const validate = ajv.compile(media.schema);
      t.true(validate(JSON.parse(text)), `${what}: ${ajv.errorsText(validate.errors)}\n${text}`);
    }
  }
  // The spread really covers the answers that matter.
  for (const status of [200, 400, 401, 404, 405, 409, 413, 503]) t.true(statuses.has(status), String(status));
});
