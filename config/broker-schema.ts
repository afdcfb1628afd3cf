// The `broker` section of the configuration schema: the embedded MQTT broker.
import convict from "convict";
import { numberIn } from "./formats.ts";

function toNumber(value: unknown): unknown {
  return typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
}

convict.addFormat({
  name: "optional-listener-port",
  coerce: toNumber,
  validate(value: unknown) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 65535) {
      throw new Error("must be a TCP port from 1 to 65535, or 0 to turn this listener off");
    }
  },
});

export const brokerSchema = {
  enabled: {
    doc: "Run the embedded MQTT broker (pipdu start). Turn off to use another broker through mqtt.url.",
    format: "bool",
    default: true,
    env: "PIPDU_BROKER_ENABLED",
    arg: "broker.enabled",
  },
  host: {
    doc: "Address the broker listens on. 127.0.0.1 keeps it local; 0.0.0.0 opens it to the network (set a password file).",
    format: String,
    default: "127.0.0.1",
    env: "PIPDU_BROKER_HOST",
    arg: "broker.host",
  },
  port: {
    doc: "MQTT over TCP port (0 = any free port).",
    format: "tcp-port",
    default: 1883,
    env: "PIPDU_BROKER_PORT",
    arg: "broker.port",
  },
  wsPort: {
    doc: "MQTT over WebSocket port; 0 turns the WebSocket listener off.",
    format: "optional-listener-port",
    default: 9001,
    env: "PIPDU_BROKER_WS_PORT",
    arg: "broker.wsPort",
  },
  wsOrigins: {
    doc: "Web page origins (scheme://host:port) allowed to use the WebSocket listener from a browser; '*' for any. Empty: browsers are refused, other WebSocket clients are not.",
    format: Array,
    default: [] as string[],
    env: "PIPDU_BROKER_WS_ORIGINS",
    arg: "broker.wsOrigins",
  },
  allowAnonymous: {
    doc: "Accept clients without a user name from other hosts too. Off: anonymous clients only from loopback (as Mosquitto 2).",
    format: "bool",
    default: false,
    env: "PIPDU_BROKER_ALLOW_ANONYMOUS",
    arg: "broker.allowAnonymous",
  },
  passwordFile: {
    doc: "Mosquitto-style password file (user:$7$...); create entries with `pipdu passwd <file> <user>`.",
    format: "optional-string",
    default: null as string | null,
    env: "PIPDU_BROKER_PASSWORD_FILE",
    arg: "broker.passwordFile",
  },
  maxPacketSize: {
    doc: "Largest MQTT packet (bytes) an authenticated client may send; announced to MQTT 5 clients. Before authentication the limit is 8 KiB.",
    format: numberIn("broker-max-packet-size", 1024, 268435455, true),
    default: 262144,
    env: "PIPDU_BROKER_MAX_PACKET_SIZE",
    arg: "broker.maxPacketSize",
  },
  maxConnections: {
    doc: "Open connections the broker accepts in total.",
    format: numberIn("broker-max-connections", 1, 100000, true),
    default: 1024,
    env: "PIPDU_BROKER_MAX_CONNECTIONS",
    arg: "broker.maxConnections",
  },
  maxConnectionsPerAddress: {
    doc: "Open connections from one address (loopback TCP excepted).",
    format: numberIn("broker-max-connections-per-address", 1, 100000, true),
    default: 32,
    env: "PIPDU_BROKER_MAX_CONNECTIONS_PER_ADDRESS",
    arg: "broker.maxConnectionsPerAddress",
  },
  retainTopics: {
    doc: "Topic trees besides piPDU's and Home Assistant discovery that the broker retains (first levels, e.g. zigbee2mqtt; '#' for all), for other applications sharing it. Other retained publishes are delivered but not kept.",
    format: Array,
    default: [] as string[],
    env: "PIPDU_BROKER_RETAIN_TOPICS",
    arg: "broker.retainTopics",
  },
  partUsers: {
    doc: "Users (from the password file) that are piPDU parts in a split layout: only they, and the parts inside `pipdu start`, may publish PDU state, results and discovery. Empty on a `pipdu broker`: no such rule.",
    format: Array,
    default: [] as string[],
    env: "PIPDU_BROKER_PART_USERS",
    arg: "broker.partUsers",
  },
  aclFile: {
    doc: "Mosquitto-style ACL file (user / topic / pattern lines). Unset: every client may read and write every topic.",
    format: "optional-string",
    default: null as string | null,
    env: "PIPDU_BROKER_ACL_FILE",
    arg: "broker.aclFile",
  },
  tls: {
    port: {
      doc: "MQTT over TLS port; the listener runs when certFile and keyFile are set. 0 turns it off.",
      format: "optional-listener-port",
      default: 8883,
      env: "PIPDU_BROKER_TLS_PORT",
      arg: "broker.tls.port",
    },
    certFile: {
      doc: "TLS certificate chain (PEM) for the TLS listener.",
      format: "optional-string",
      default: null as string | null,
      env: "PIPDU_BROKER_TLS_CERT_FILE",
      arg: "broker.tls.certFile",
    },
    keyFile: {
      doc: "TLS private key (PEM) for the TLS listener.",
      format: "optional-string",
      default: null as string | null,
      env: "PIPDU_BROKER_TLS_KEY_FILE",
      arg: "broker.tls.keyFile",
    },
  },
};
