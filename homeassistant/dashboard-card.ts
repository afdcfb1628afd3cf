// A Lovelace card for one PDU: totals on top, then every outlet's switch and power side by side.
// homeassistant/dashboard-card.yaml is this card for the default PDU (pdu1, 16 outlets); a test keeps them equal.
import { stringify } from "yaml";
import type { DevicePayload } from "./discovery-payload.ts";

export function dashboardCard(payload: DevicePayload, title: string): string {
  const entity = (key: string): string | null => {
    const id = payload.components[key]?.["default_entity_id"];
    return typeof id === "string" ? id : null;
  };
  const outlets = Object.keys(payload.components)
    .map((key) => /^outlet_([0-9]+)$/.exec(key)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const tiles = outlets.flatMap((n) => {
    const name = payload.components[`outlet_${n}`]?.["name"];
    return [
      { type: "tile", entity: entity(`outlet_${n}`), name: typeof name === "string" ? name : `Outlet ${n}` },
      { type: "tile", entity: entity(`outlet_${n}_power`), name: "Power" },
    ];
  });
  const card = {
    type: "vertical-stack",
    cards: [
      {
        type: "glance",
        title,
        entities: ["total_power", "total_current", "total_energy", "mains_voltage"]
          .map(entity)
          .filter((e) => e !== null),
      },
      { type: "grid", columns: 2, square: false, cards: tiles },
    ],
  };
  return stringify(card);
}
