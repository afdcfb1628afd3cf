// The one configuration schema. Precedence: defaults < config file < environment (PIPDU_*) < command line.
import { jsonFormat, matching, numberIn, oneOf } from "./formats.ts";
import { brokerSchema } from "./broker-schema.ts";
import { isValidBase } from "../protocol/topics.ts";
import { panelSchema } from "./panel-schema.ts";
import "./outlets.ts";
import "./aliases.ts";

export const schema = {
  config: {
    doc: "Configuration file (JSON or YAML).",
    format: "optional-string",
    default: null as string | null,
    env: "PIPDU_CONFIG",
    arg: "config",
  },
  stateDir: {
    doc: "Directory for persistent state: energy counters, retained messages, simulated relays, the gateway's power history.",
    format: String,
    default: "./state",
    env: "PIPDU_STATE_DIR",
    arg: "stateDir",
  },
  pdu: {
    id: {
      doc: "PDU id used in topics: lower-case letters, digits, _ and -.",
      format: matching(/^[a-z0-9_-]{1,64}$/, "1 to 64 of a-z, 0-9, _ and -"),
      default: "pdu1",
      env: "PIPDU_PDU_ID",
      arg: "pdu.id",
    },
    name: {
      doc: "Human name of the PDU (Home Assistant device name, web page).",
      format: matching(/^[^\u0000-\u001f]{1,64}$/, "1 to 64 printable characters"),
      default: "piPDU",
      env: "PIPDU_PDU_NAME",
      arg: "pdu.name",
    },
    outletCount: {
      doc: "Number of outlets fitted.",
      format: numberIn("outlet-count", 1, 16, true),
      default: 16,
      env: "PIPDU_PDU_OUTLET_COUNT",
      arg: "pdu.outletCount",
    },
  },
  outlets: {
    doc: 'Per-outlet settings by position: [{"name":"Switch","protected":true,"load":{"watts":25}}]. Env value is JSON.',
    format: "outlet-list",
    default: [] as unknown[],
    env: "PIPDU_OUTLETS",
  },
  mqtt: {
    url: {
      doc: "Broker URL (mqtt://, mqtts://, ws://, wss://).",
      format: matching(
        /^(mqtts?|wss?|tcp|tls):\/\/[^\s]+$/,
        "a URL such as mqtt://host:1883 or mqtts://host:8883",
      ),
      default: "mqtt://127.0.0.1:1883",
      env: "PIPDU_MQTT_URL",
      arg: "mqtt.url",
    },
    username: {
      doc: "Broker user name.",
      format: "optional-string",
      default: null as string | null,
      env: "PIPDU_MQTT_USERNAME",
      arg: "mqtt.username",
    },
    password: {
      doc: "Broker password.",
      format: "optional-string",
      default: null as string | null,
      env: "PIPDU_MQTT_PASSWORD",
      sensitive: true,
    },
    baseTopic: {
      doc: "First level(s) of every topic.",
      format: (value: unknown) => {
        if (typeof value !== "string" || !isValidBase(value) || /\s/.test(value)) {
          throw new Error(
            "must be topic levels without wildcards, spaces or empty levels, such as pipdu or lab/pipdu",
          );
        }
      },
      default: "pipdu",
      env: "PIPDU_MQTT_BASE_TOPIC",
      arg: "mqtt.baseTopic",
    },
    protocol: {
      doc: "MQTT version: auto tries 5 and falls back to 3.1.1.",
      format: oneOf(["auto", "5", "3.1.1"]),
      default: "auto",
      env: "PIPDU_MQTT_PROTOCOL",
      arg: "mqtt.protocol",
    },
    caFile: {
      doc: "CA certificate for mqtts:// (PEM).",
      format: "optional-string",
      default: null as string | null,
      env: "PIPDU_MQTT_CA_FILE",
    },
  },
  broker: brokerSchema,
  sim: {
    faultRate: {
      doc: "Simulator only: share of I2C transactions that fail (corrupt, NACK, zero or short), to test the link.",
      format: numberIn("sim-fault-rate", 0, 0.5),
      default: 0,
      env: "PIPDU_SIM_FAULT_RATE",
    },
    busClock: {
      doc: "Simulator only: I2C clock in Hz whose bus time each transaction takes (9 bits a byte plus the firmware handler), e.g. 100000 or 10000; 0 = no bus time.",
      format: numberIn("sim-bus-clock", 0, 1_000_000),
      default: 0,
      env: "PIPDU_SIM_BUS_CLOCK",
    },
  },
  safety: {
    maxCurrent: {
      doc: "Budget for the whole PDU in amperes (a 16 A Schuko feed by default). Switching on beyond it is refused.",
      format: numberIn("max-current", 0.1, 63),
      default: 16,
      env: "PIPDU_SAFETY_MAX_CURRENT",
    },
    overloadHold: {
      doc: "Seconds the total may stay above the budget before the overload alarm is raised.",
      format: numberIn("overload-hold", 0, 600),
      default: 5,
      env: "PIPDU_SAFETY_OVERLOAD_HOLD",
    },
    shed: {
      doc: "On a sustained overload, switch off unprotected outlets, lowest priority first, until under budget.",
      format: "bool",
      default: false,
      env: "PIPDU_SAFETY_SHED",
    },
    staggerDelay: {
      doc: "Seconds between outlets in an all-on (inrush); an outlet's own onDelay wins.",
      format: numberIn("stagger-delay", 0, 60),
      default: 1,
      env: "PIPDU_SAFETY_STAGGER_DELAY",
    },
    checkWindow: {
      doc: "Seconds after a switch before a dead load (on, no current) or welded relay (off, current) is reported.",
      format: numberIn("check-window", 1, 600),
      default: 5,
      env: "PIPDU_SAFETY_CHECK_WINDOW",
    },
    loadThreshold: {
      doc: "Amperes below which an outlet counts as drawing nothing (sensor noise floor); 0.01 A is about 2.3 W at 230 V, so a 5 W router is a load. An outlet's own loadThreshold wins.",
      format: numberIn("load-threshold", 0.001, 1),
      default: 0.01,
      env: "PIPDU_SAFETY_LOAD_THRESHOLD",
    },
  },
  hardware: {
    doc: "auto: the Mega on I2C if it answers, else the simulator; i2c: the Mega only; sim: the simulator.",
    format: oneOf(["auto", "i2c", "sim"]),
    default: "auto",
    env: "PIPDU_HARDWARE",
    arg: "hardware",
  },
  i2c: {
    bus: {
      doc: "I2C bus number (/dev/i2c-N).",
      format: numberIn("i2c-bus-number", 0, 255, true),
      default: 1,
      env: "PIPDU_I2C_BUS",
    },
    address: {
      doc: "I2C address of the Mega.",
      format: numberIn("i2c-address", 0x08, 0x77, true),
      default: 0x42,
      env: "PIPDU_I2C_ADDRESS",
    },
  },
  mains: {
    voltage: {
      doc: "Mains voltage used for watts (no voltage channel).",
      format: numberIn("mains-voltage", 90, 260),
      default: 230,
      env: "PIPDU_MAINS_VOLTAGE",
    },
    powerFactor: {
      doc: "Assumed power factor: W = A × V × PF.",
      format: numberIn("power-factor", 0.1, 1),
      default: 1,
      env: "PIPDU_MAINS_POWER_FACTOR",
    },
    frequency: {
      doc: "Mains frequency in Hz.",
      format: numberIn("mains-frequency", 50, 60, true),
      default: 50,
      env: "PIPDU_MAINS_FREQUENCY",
    },
  },
  telemetry: {
    interval: {
      doc: "Seconds between hardware reads.",
      format: numberIn("telemetry-interval", 0.1, 60),
      default: 1,
      env: "PIPDU_TELEMETRY_INTERVAL",
    },
    maxAge: {
      doc: "Every value is re-published at least this often (seconds).",
      format: numberIn("telemetry-max-age", 1, 3600),
      default: 60,
      env: "PIPDU_TELEMETRY_MAX_AGE",
    },
    deadband: {
      power: {
        doc: "Watts a power reading must move before it is published.",
        format: numberIn("deadband-power", 0, 1000),
        default: 1,
        env: "PIPDU_TELEMETRY_DEADBAND_POWER",
      },
      current: {
        doc: "Amperes a current reading must move before it is published.",
        format: numberIn("deadband-current", 0, 10),
        default: 0.01,
        env: "PIPDU_TELEMETRY_DEADBAND_CURRENT",
      },
      energy: {
        doc: "kWh an energy counter must move before it is published.",
        format: numberIn("deadband-energy", 0, 10),
        default: 0.001,
        env: "PIPDU_TELEMETRY_DEADBAND_ENERGY",
      },
    },
  },
  commands: {
    defaultCycleDelay: {
      doc: "Seconds between off and on in a CYCLE.",
      format: numberIn("cycle-delay", 0, 3600),
      default: 5,
      env: "PIPDU_COMMANDS_DEFAULT_CYCLE_DELAY",
    },
    maxDelay: {
      doc: "Longest delay a command may ask for (seconds).",
      format: numberIn("max-delay", 0, 86400),
      default: 3600,
      env: "PIPDU_COMMANDS_MAX_DELAY",
    },
    maxPending: {
      doc: "Most pending actions (delayed commands, all-on steps) a PDU holds; more are refused with too_many_pending.",
      format: numberIn("max-pending", 1, 1000, true),
      default: 64,
      env: "PIPDU_COMMANDS_MAX_PENDING",
    },
  },
  energy: {
    saveInterval: {
      doc: "Seconds between energy counter saves (also saved on stop).",
      format: numberIn("energy-save-interval", 1, 3600),
      default: 30,
      env: "PIPDU_ENERGY_SAVE_INTERVAL",
    },
  },
  http: {
    port: {
      doc: "Gateway HTTP port (web page, REST, metrics).",
      format: "tcp-port",
      default: 8080,
      env: "PIPDU_HTTP_PORT",
      arg: "http.port",
    },
  },
  pdudaemon: {
    port: {
      doc: "PDUDaemon-compatible port (HTTP and TCP).",
      format: "tcp-port",
      default: 16421,
      env: "PIPDU_PDUDAEMON_PORT",
      arg: "pdudaemon.port",
    },
    config: {
      doc: "A PDUDaemon configuration file (JSON): its PDUs run as piPDU PDUs through their drivers, its aliases serve the PDUDaemon API.",
      format: "optional-string",
      default: null as string | null,
      env: "PIPDU_PDUDAEMON_CONFIG",
      arg: "pdudaemon.config",
    },
    pdus: {
      doc: 'Driver-backed PDUs as in PDUDaemon\'s "pdus": {"10.0.0.5":{"driver":"snmpv1","community":"private",…}}. Env value is JSON.',
      format: jsonFormat("pdudaemon-pdus", (value: unknown) => {
        if (typeof value !== "object" || value === null || Array.isArray(value))
          throw new Error('must be an object such as {"10.0.0.5":{"driver":"snmpv1",…}}');
      }),
      default: {} as Record<string, unknown>,
      env: "PIPDU_PDUDAEMON_PDUS",
      // Entries carry communities, pass phrases and passwords.
      sensitive: true,
    },
  },
  gateway: {
    enabled: {
      doc: "Run the gateway (web page, REST, PDUDaemon API, metrics) with `pipdu start`.",
      format: "bool",
      default: true,
      env: "PIPDU_GATEWAY_ENABLED",
      arg: "gateway.enabled",
    },
    host: {
      doc: "Address the gateway's HTTP and PDUDaemon ports listen on. auto: every interface when a token is set (configured or saved in the state directory), loopback otherwise. Any other address beyond loopback without a token generates one at start.",
      format: String,
      default: "auto",
      env: "PIPDU_GATEWAY_HOST",
      arg: "gateway.host",
    },
    hosts: {
      doc: "Host names the gateway and the simulated panel answer to besides IP addresses, localhost and this machine's name (a DNS alias, a reverse proxy's name), comma-separated. A browser request naming any other host is refused (DNS rebinding); programs may use any name.",
      format: String,
      default: "",
      env: "PIPDU_GATEWAY_HOSTS",
      arg: "gateway.hosts",
    },
    token: {
      doc: "When set, switching (REST, web page, PDUDaemon HTTP and TCP, the simulated panel) needs this token; reading stays open. Unset: the one saved in the state directory (gateway-token), if any.",
      format: "optional-string",
      default: null as string | null,
      env: "PIPDU_GATEWAY_TOKEN",
      sensitive: true,
    },
    aliases: {
      doc: 'PDUDaemon aliases: {"dut1":{"hostname":"pdu1","port":3}}. Env value is JSON.',
      format: "pdudaemon-aliases",
      default: {} as Record<string, unknown>,
      env: "PIPDU_GATEWAY_ALIASES",
    },
    requestTimeout: {
      doc: "Seconds to wait for the agent's result (on top of any delay) before answering with an error.",
      format: numberIn("gateway-request-timeout", 1, 600),
      default: 30,
      env: "PIPDU_GATEWAY_REQUEST_TIMEOUT",
      arg: "gateway.requestTimeout",
    },
    timezone: {
      doc: "Time zone of the energy days and months on the page and in the API (IANA name such as Europe/Berlin); unset: the system's.",
      format: "time-zone",
      default: null as string | null,
      env: "PIPDU_GATEWAY_TIMEZONE",
      arg: "gateway.timezone",
    },
  },
  ha: {
    discovery: {
      doc: "Publish Home Assistant MQTT discovery.",
      format: "bool",
      default: true,
      env: "PIPDU_HA_DISCOVERY",
    },
    discoveryPrefix: {
      doc: "Home Assistant discovery prefix.",
      format: matching(/^[a-zA-Z0-9_-]+(\/[a-zA-Z0-9_-]+)*$/, "topic levels of a-z, A-Z, 0-9, _ and -"),
      default: "homeassistant",
      env: "PIPDU_HA_DISCOVERY_PREFIX",
    },
    statusTopic: {
      doc: "Home Assistant birth/status topic.",
      format: String,
      default: "homeassistant/status",
      env: "PIPDU_HA_STATUS_TOPIC",
    },
    configurationUrl: {
      doc: "Web page Home Assistant links the device to. Unset: the gateway of pipdu start at this host's LAN address.",
      format: "optional-string",
      default: null as string | null,
      env: "PIPDU_HA_CONFIGURATION_URL",
    },
  },
  panel: panelSchema,
  log: {
    level: {
      doc: "error, warn, info, debug.",
      format: oneOf(["error", "warn", "info", "debug"]),
      default: "info",
      env: "PIPDU_LOG_LEVEL",
      arg: "log.level",
    },
    format: {
      doc: "text or json.",
      format: oneOf(["text", "json"]),
      default: "text",
      env: "PIPDU_LOG_FORMAT",
    },
  },
};
