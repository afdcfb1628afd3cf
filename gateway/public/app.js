// piPDU live page: every PDU on the bus from /api/events (Server-Sent Events), history and energy from the REST
// API, switching through it too. Plain browser JavaScript, no build step; charts by uPlot (served by the gateway).
// Names from the bus are only ever set as text, never as HTML. Nothing is shown as live that is not.

const pdusEl = document.getElementById("pdus");
const navEl = document.getElementById("pdu-nav");
const linkEl = document.getElementById("link");
const toastEl = document.getElementById("toast");
const tokenForm = document.getElementById("token-form");
const tokenInput = document.getElementById("token");
const confirmDialog = document.getElementById("confirm");

const sections = new Map(); // pdu id -> entry
const link = { open: false, broker: null, everOpen: false };
let selected = null;
let toastTimer = null;

// ---- token ---------------------------------------------------------------------------------------------

function token() {
  return localStorage.getItem("pipdu-token") ?? "";
}

tokenForm.addEventListener("submit", (event) => {
  event.preventDefault();
  localStorage.setItem("pipdu-token", tokenInput.value);
  toast("Token saved");
});

fetch("/api")
  .then((r) => r.json())
  .then((info) => {
    tokenForm.hidden = !info.tokenRequired;
    tokenInput.value = token();
  })
  .catch(() => undefined);

// ---- small helpers -------------------------------------------------------------------------------------

function toast(message, isError = false) {
  toastEl.textContent = message;
  toastEl.className = isError ? "error" : "";
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (toastEl.textContent = ""), 5000);
}

function fmt(value, decimals) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(decimals);
}

function setText(root, selector, value) {
  const el = root.querySelector(selector);
  if (el.textContent !== value) el.textContent = value;
}

function clone(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

function outletLabel(pdu, n) {
  const o = pdu.outlets.find((x) => x.number === n);
  return o ? `outlet ${n} ${o.name}` : `outlet ${n}`;
}

function seconds(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return s >= 120 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

async function call(url, body) {
  const headers = { "content-type": "application/json" };
  if (token()) headers.authorization = `Bearer ${token()}`;
  const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  const reply = await response.json().catch(() => ({}));
  if (response.status === 401) tokenForm.hidden = false;
  return { ok: response.ok, reply, message: reply.message ?? reply.error?.message ?? response.statusText };
}

function ask(title, message, okLabel) {
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = message;
  document.getElementById("confirm-ok").textContent = okLabel;
  confirmDialog.returnValue = "cancel";
  confirmDialog.showModal();
  return new Promise((resolve) =>
    confirmDialog.addEventListener("close", () => resolve(confirmDialog.returnValue === "ok"), {
      once: true,
    }),
  );
}

// ---- connection state ----------------------------------------------------------------------------------

/** "online" only when the page, the gateway's broker link and the agent are all live. */
function availability(pdu) {
  if (!link.open || link.broker === false) return "unknown";
  if (!pdu.online) return "offline";
  if (pdu.stale) return "stale";
  return "online";
}

const AVAILABILITY_TEXT = {
  online: "online",
  offline: "offline",
  stale: "not responding",
  unknown: "status unknown",
};

function renderLink() {
  let state = "live";
  let label = "live";
  if (!link.open) {
    state = link.everOpen ? "unreachable" : "connecting";
    label = link.everOpen ? "gateway unreachable – retrying" : "connecting…";
  } else if (link.broker === false) {
    state = "no-broker";
    label = "gateway lost the MQTT broker – values are stale";
  }
  linkEl.dataset.state = state;
  linkEl.textContent = label;
  for (const entry of sections.values()) render(entry.data);
}

// ---- navigation between PDUs ---------------------------------------------------------------------------

function wanted() {
  const id = decodeURIComponent(location.hash.replace(/^#/, ""));
  return sections.has(id) ? id : ([...sections.keys()].sort()[0] ?? null);
}

function renderNav() {
  const ids = [...sections.keys()].sort();
  navEl.hidden = ids.length < 2;
  navEl.replaceChildren(
    ...ids.map((id) => {
      const a = document.createElement("a");
      const data = sections.get(id).data;
      a.href = `#${encodeURIComponent(id)}`;
      a.textContent = data.name === id ? id : `${data.name} (${id})`;
      a.className = `nav-pdu ${availability(data)}`;
      if (id === selected) a.setAttribute("aria-current", "page");
      return a;
    }),
  );
}

function select() {
  const id = wanted();
  if (id === selected && id !== null && sections.get(id).shown) {
    renderNav();
    return;
  }
  selected = id;
  for (const [pid, entry] of sections) {
    entry.section.hidden = pid !== id;
    entry.shown = pid === id;
  }
  renderNav();
  const entry = sections.get(id);
  if (entry) {
    loadChart(entry);
    loadSparks(entry);
    loadEnergy(entry);
  }
}

window.addEventListener("hashchange", select);

// ---- rendering -----------------------------------------------------------------------------------------

function sectionFor(pdu) {
  let entry = sections.get(pdu.id);
  if (entry) return entry;
  const section = clone("pdu-template");
  section.dataset.pdu = pdu.id;
  section.hidden = true;
  entry = {
    section,
    data: pdu,
    outlets: new Map(),
    sparks: new Map(),
    energy: null,
    chart: null,
    series: "total",
    range: "1h",
    shown: false,
  };
  sections.set(pdu.id, entry);
  pdusEl.querySelector(".empty")?.remove();
  pdusEl.append(section);
  const id = pdu.id;
  section.querySelector(".all-on").addEventListener("click", () => onAll(id, "all_on"));
  section.querySelector(".all-off").addEventListener("click", () => onAll(id, "all_off"));
  section.querySelector(".chart-series").addEventListener("change", (event) => {
    entry.series = event.target.value;
    loadChart(entry);
  });
  for (const button of section.querySelectorAll(".ranges button")) {
    button.addEventListener("click", () => {
      entry.range = button.dataset.range;
      loadChart(entry);
    });
  }
  return entry;
}

function outletFor(entry, pduId, outlet) {
  let li = entry.outlets.get(outlet.number);
  if (li) return li;
  li = clone("outlet-template");
  li.dataset.pdu = pduId;
  li.dataset.outlet = String(outlet.number);
  const n = outlet.number;
  li.querySelector(".toggle").addEventListener("click", () => onToggle(pduId, n));
  li.querySelector(".cycle").addEventListener("click", () => onCycle(pduId, n));
  li.querySelector(".cancel").addEventListener("click", () => onCancelOutlet(pduId, n));
  li.querySelector(".spark").addEventListener("click", () => {
    entry.series = String(n);
    loadChart(entry);
    entry.section.querySelector(".chart-panel").scrollIntoView({ behavior: "smooth", block: "nearest" });
  });
  const after = [...entry.outlets.keys()].filter((k) => k < n).length;
  const list = entry.section.querySelector(".outlets");
  list.insertBefore(li, list.children[after] ?? null);
  entry.outlets.set(n, li);
  return li;
}

function render(pdu) {
  const entry = sectionFor(pdu);
  entry.data = pdu;
  const { section } = entry;
  const avail = availability(pdu);
  const live = avail === "online";
  section.dataset.availability = avail;
  section.classList.toggle("is-stale", !live);
  setText(section, ".pdu-name", pdu.name);
  setText(section, ".pdu-id", pdu.id);
  const badge = section.querySelector(".availability");
  badge.textContent = AVAILABILITY_TEXT[avail];
  badge.className = `badge availability ${avail}`;
  setText(section, ".total-power", fmt(pdu.totals.power, 1));
  setText(section, ".total-current", fmt(pdu.totals.current, 2));
  setText(section, ".total-energy", fmt(pdu.totals.energy, 3));
  setText(section, ".total-on", `${pdu.totals.outletsOn} / ${pdu.outlets.length}`);
  section.querySelector(".all-on").disabled = !live;
  section.querySelector(".all-off").disabled = !live;
  renderAlarm(entry, pdu);
  renderPending(entry, pdu);
  renderSeriesChoice(entry, pdu);

  const pending = pdu.pending ?? [];
  for (const outlet of pdu.outlets) {
    const li = outletFor(entry, pdu.id, outlet);
    const mine = pending.filter((p) => p.outlet === outlet.number);
    const cycling = mine.some((p) => p.action === "cycle");
    const fault = pdu.faults?.[String(outlet.number)] ?? null;
    li.dataset.state = outlet.state ?? "";
    li.dataset.cycling = String(cycling);
    li.dataset.fault = fault ?? "none";
    setText(li, ".number", String(outlet.number));
    setText(li, ".name", outlet.name);
    li.querySelector(".lock").hidden = !outlet.protected;
    const state = li.querySelector(".state");
    state.textContent = cycling ? "CYCLING" : (outlet.state ?? "?");
    state.className = `state badge ${cycling ? "cycling" : outlet.state === "ON" ? "on" : ""}`;
    const faultEl = li.querySelector(".fault");
    faultEl.hidden = fault === null;
    faultEl.textContent = fault === "dead_load" ? "no load" : fault === "welded_relay" ? "relay stuck" : "";
    faultEl.title =
      fault === "dead_load"
        ? "Switched on but draws no current"
        : fault === "welded_relay"
          ? "Switched off but current is flowing"
          : "";
    setText(li, ".power", fmt(outlet.power, 1));
    setText(li, ".current", fmt(outlet.current, 2));
    setText(li, ".energy", fmt(outlet.energy, 3));
    setText(
      li,
      ".energy-today",
      fmt(entry.energy?.today.outlets.find((o) => o.number === outlet.number)?.kwh, 3),
    );
    const toggle = li.querySelector(".toggle");
    toggle.textContent = outlet.state === "ON" ? "Turn off" : "Turn on";
    toggle.setAttribute("aria-label", `${toggle.textContent} outlet ${outlet.number} ${outlet.name}`);
    toggle.disabled = !live;
    toggle.hidden = cycling;
    const cycle = li.querySelector(".cycle");
    cycle.setAttribute("aria-label", `Power-cycle outlet ${outlet.number} ${outlet.name}`);
    cycle.disabled = !live;
    cycle.hidden = cycling;
    const cancel = li.querySelector(".cancel");
    cancel.hidden = mine.length === 0;
    cancel.disabled = !live;
    cancel.setAttribute("aria-label", `Cancel what is pending on outlet ${outlet.number} ${outlet.name}`);
    li.querySelector(".spark").setAttribute(
      "aria-label",
      `Show outlet ${outlet.number} ${outlet.name} in the large chart`,
    );
    const note = li.querySelector(".pending-note");
    note.hidden = mine.length === 0;
    note.dataset.due = mine[0]?.dueAt ?? "";
    note.dataset.what = mine[0] ? (mine[0].action === "cycle" ? "back on" : mine[0].action) : "";
  }
  for (const [n, li] of entry.outlets) {
    if (!pdu.outlets.some((o) => o.number === n)) {
      li.remove();
      entry.outlets.delete(n);
      entry.sparks.get(n)?.destroy();
      entry.sparks.delete(n);
    }
  }
  tickCountdowns();
}

function renderAlarm(entry, pdu) {
  const el = entry.section.querySelector(".alarm");
  const alarm = pdu.alarm;
  const active = Boolean(alarm?.active);
  el.hidden = !active;
  entry.section.dataset.alarm = String(active);
  if (!active) return;
  const parts = [`${fmt(alarm.current, 2)} A drawn, limit ${fmt(alarm.limit, 1)} A`];
  if (alarm.since) parts.push(`since ${new Date(alarm.since).toLocaleTimeString()}`);
  if (alarm.outlets.length > 0)
    parts.push(`over their own limit: ${alarm.outlets.map((n) => outletLabel(pdu, n)).join(", ")}`);
  if (alarm.shed.length > 0)
    parts.push(`switched off to shed load: ${alarm.shed.map((n) => outletLabel(pdu, n)).join(", ")}`);
  setText(el, ".alarm-text", parts.join(" · "));
}

function describePending(pdu, p) {
  const who = outletLabel(pdu, p.outlet);
  if (p.action === "cycle") return `${who}: power cycle, back on`;
  if (p.source === "cold_start") return `${who}: cold-start on (firmware)`;
  return `${who}: ${p.action}`;
}

function renderPending(entry, pdu) {
  const box = entry.section.querySelector(".pending");
  const list = box.querySelector(".pending-list");
  const pending = [...(pdu.pending ?? [])].sort((a, b) => (a.dueAt ?? Infinity) - (b.dueAt ?? Infinity));
  box.hidden = pending.length === 0;
  const keep = new Set(pending.map((p) => String(p.id)));
  for (const li of [...list.children]) if (!keep.has(li.dataset.pendingId)) li.remove();
  for (const p of pending) {
    let li = list.querySelector(`li[data-pending-id="${p.id}"]`);
    if (!li) {
      li = document.createElement("li");
      li.dataset.pendingId = String(p.id);
      const what = document.createElement("span");
      what.className = "what";
      const when = document.createElement("span");
      when.className = "countdown";
      const cancel = document.createElement("button");
      cancel.type = "button";
      cancel.textContent = "Cancel";
      cancel.addEventListener("click", () => onCancel(pdu.id, p.id));
      li.append(what, " ", when, " ", cancel);
      list.append(li);
    }
    li.dataset.due = p.dueAt ?? "";
    setText(li, ".what", describePending(pdu, p));
    const button = li.querySelector("button");
    button.setAttribute("aria-label", `Cancel ${describePending(pdu, p)}`);
    button.disabled = availability(pdu) !== "online";
  }
}

function tickCountdowns() {
  const now = Date.now();
  for (const el of document.querySelectorAll(".pending-list li")) {
    const due = Number(el.dataset.due);
    setText(el, ".countdown", el.dataset.due ? `in ${seconds(due - now)}` : "when the firmware's delay ends");
  }
  for (const el of document.querySelectorAll(".pending-note:not([hidden])")) {
    const due = Number(el.dataset.due);
    const text = el.dataset.due
      ? `${el.dataset.what} in ${seconds(due - now)}`
      : `${el.dataset.what} pending`;
    if (el.textContent !== text) el.textContent = text;
  }
}
setInterval(tickCountdowns, 1000);

function renderSeriesChoice(entry, pdu) {
  const choice = entry.section.querySelector(".chart-series");
  const options = [
    ["total", "Total"],
    ...pdu.outlets.map((o) => [String(o.number), `${o.number} · ${o.name}`]),
  ];
  const current = [...choice.options].map((o) => `${o.value}=${o.textContent}`).join("|");
  if (current !== options.map(([v, t]) => `${v}=${t}`).join("|")) {
    choice.replaceChildren(
      ...options.map(([value, text]) => {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = text;
        return option;
      }),
    );
  }
  choice.value = entry.series;
}

// ---- charts --------------------------------------------------------------------------------------------

function cssColor(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

async function history(pduId, outlet, range, resolution) {
  const query = new URLSearchParams({ outlet, range });
  if (resolution) query.set("resolution", String(resolution));
  const response = await fetch(`/api/pdus/${encodeURIComponent(pduId)}/history?${query}`);
  if (!response.ok) throw new Error(`history: ${response.status}`);
  return response.json();
}

function columns(answer) {
  return [answer.points.map((p) => p[0]), answer.points.map((p) => p[1])];
}

const charts = typeof uPlot === "function"; // the chart library is served by the gateway; without it, no charts

async function loadChart(entry) {
  if (!charts) return;
  const { section } = entry;
  for (const b of section.querySelectorAll(".ranges button"))
    b.setAttribute("aria-pressed", String(b.dataset.range === entry.range));
  section.querySelector(".chart-series").value = entry.series;
  const pduId = entry.data.id;
  const query = new URLSearchParams({ outlet: entry.series, range: entry.range, format: "csv" });
  section.querySelector(".csv").href = `/api/pdus/${encodeURIComponent(pduId)}/history?${query}`;
  const box = section.querySelector(".chart");
  const seq = (entry.chartSeq = (entry.chartSeq ?? 0) + 1);
  let answer;
  try {
    answer = await history(pduId, entry.series, entry.range);
  } catch {
    return;
  }
  if (seq !== entry.chartSeq) return; // a newer choice is loading
  const data = columns(answer);
  const label = entry.series === "total" ? "Total" : outletLabel(entry.data, Number(entry.series));
  box.setAttribute(
    "aria-label",
    `Power of ${label} over ${entry.range}, one point per ${answer.resolution} s`,
  );
  box.dataset.points = String(answer.points.length);
  box.dataset.series = entry.series;
  box.dataset.range = entry.range;
  const width = Math.max(280, box.clientWidth);
  const height = window.innerWidth < 600 ? 180 : 240;
  if (!entry.chart || entry.chartKey !== `${entry.series}|${entry.range}`) {
    entry.chart?.destroy();
    const text = cssColor("--text", "#222");
    const grid = cssColor("--grid", "#8884");
    entry.chart = new uPlot(
      {
        width,
        height,
        legend: { show: true, live: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(10, max * 1.1)] } },
        axes: [
          { stroke: text, grid: { stroke: grid } },
          { stroke: text, grid: { stroke: grid }, label: "W", size: 55 },
        ],
        series: [
          {},
          {
            label: `${label} W`,
            stroke: cssColor("--accent", "#1b6b3a"),
            fill: cssColor("--accent-fill", "#1b6b3a22"),
            width: 2,
            spanGaps: false,
            points: { show: false },
            value: (u, v) => (v === null ? "–" : `${v.toFixed(1)} W`),
          },
        ],
      },
      data,
      box,
    );
    entry.chartKey = `${entry.series}|${entry.range}`;
  } else {
    entry.chart.setData(data);
  }
  box.dataset.drawn = "true";
  renderSeriesEnergy(entry);
}

async function loadSparks(entry) {
  if (!charts) return;
  const pduId = entry.data.id;
  await Promise.all(
    [...entry.outlets].map(async ([n, li]) => {
      let answer;
      try {
        answer = await history(pduId, String(n), "15m");
      } catch {
        return;
      }
      const data = columns(answer);
      const box = li.querySelector(".spark");
      box.dataset.points = String(answer.points.length);
      let spark = entry.sparks.get(n);
      if (!spark) {
        spark = new uPlot(
          {
            width: Math.max(120, box.clientWidth - 4),
            height: 36,
            legend: { show: false },
            cursor: { show: false },
            scales: {
              x: { time: true },
              y: { range: (u, min, max) => [-0.05 * Math.max(5, max), Math.max(5, max * 1.15)] },
            },
            axes: [{ show: false }, { show: false }],
            series: [
              {},
              {
                stroke: cssColor("--accent", "#1b6b3a"),
                fill: cssColor("--accent-fill", "#1b6b3a22"),
                width: 1.5,
                points: { show: false },
              },
            ],
          },
          data,
          box,
        );
        entry.sparks.set(n, spark);
      } else {
        spark.setData(data);
      }
    }),
  );
}

async function loadEnergy(entry) {
  try {
    const response = await fetch(`/api/pdus/${encodeURIComponent(entry.data.id)}/energy`);
    if (!response.ok) return;
    entry.energy = await response.json();
  } catch {
    return;
  }
  const { section } = entry;
  setText(section, ".total-today", fmt(entry.energy.today.total, 3));
  setText(section, ".total-yesterday", fmt(entry.energy.yesterday.total, 3));
  setText(section, ".total-month", fmt(entry.energy.month.total, 3));
  for (const [n, li] of entry.outlets)
    setText(li, ".energy-today", fmt(entry.energy.today.outlets.find((o) => o.number === n)?.kwh, 3));
  renderSeriesEnergy(entry);
}

/** Energy of what the large chart shows: today, yesterday, this month. */
function renderSeriesEnergy(entry) {
  const e = entry.energy;
  const el = entry.section.querySelector(".series-energy");
  if (!e) return;
  const pick = (period) =>
    entry.series === "total"
      ? period.total
      : period.outlets.find((o) => String(o.number) === entry.series)?.kwh;
  const label = entry.series === "total" ? "Whole PDU" : outletLabel(entry.data, Number(entry.series));
  const text = `${label}: today ${fmt(pick(e.today), 3)} kWh · yesterday ${fmt(pick(e.yesterday), 3)} kWh · this month ${fmt(pick(e.month), 3)} kWh (${e.timezone})`;
  if (el.textContent !== text) el.textContent = text;
}

function refreshSelected(what) {
  const entry = sections.get(selected);
  if (!entry || document.hidden) return;
  if (what === "chart") loadChart(entry);
  if (what === "slow-chart" && !["15m", "1h"].includes(entry.range)) loadChart(entry);
  if (what === "sparks") loadSparks(entry);
  if (what === "energy") loadEnergy(entry);
}
setInterval(() => {
  const entry = sections.get(selected);
  if (entry && ["15m", "1h"].includes(entry.range)) refreshSelected("chart");
}, 5000);
setInterval(() => refreshSelected("slow-chart"), 60_000);
setInterval(() => refreshSelected("sparks"), 30_000);
setInterval(() => refreshSelected("energy"), 60_000);

let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    const entry = sections.get(selected);
    if (!entry) return;
    const box = entry.section.querySelector(".chart");
    entry.chart?.setSize({
      width: Math.max(280, box.clientWidth),
      height: window.innerWidth < 600 ? 180 : 240,
    });
    for (const [n, spark] of entry.sparks) {
      const el = entry.outlets.get(n)?.querySelector(".spark");
      if (el) spark.setSize({ width: Math.max(120, el.clientWidth - 4), height: 36 });
    }
  }, 200);
});

// ---- actions -------------------------------------------------------------------------------------------

function outletData(pduId, n) {
  return sections.get(pduId)?.data.outlets.find((o) => o.number === n);
}

function onToggle(pduId, n) {
  const outlet = outletData(pduId, n);
  if (outlet) send(pduId, outlet, outlet.state === "ON" ? "off" : "on");
}

function onCycle(pduId, n) {
  const outlet = outletData(pduId, n);
  if (outlet) send(pduId, outlet, "cycle");
}

async function send(pduId, outlet, action) {
  const body = { action };
  if (outlet.protected && action !== "on") {
    const verb = action === "cycle" ? "Power-cycle" : "Switch off";
    if (!confirm(`${verb} protected outlet ${outlet.number} "${outlet.name}" on ${pduId}?`)) return;
    body.force = true;
  }
  try {
    const { ok, reply, message } = await call(
      `/api/pdus/${encodeURIComponent(pduId)}/outlets/${outlet.number}`,
      body,
    );
    if (ok) toast(`${outlet.name}: ${action} done, now ${reply.state}`);
    else toast(`${outlet.name}: ${message}`, true);
  } catch (err) {
    toast(`${outlet.name}: ${err.message}`, true);
  }
}

async function pduAction(pduId, body, prefix) {
  try {
    const { ok, message } = await call(`/api/pdus/${encodeURIComponent(pduId)}/actions`, body);
    toast(`${prefix}: ${message}`, !ok);
  } catch (err) {
    toast(err.message, true);
  }
}

async function onAll(pduId, action) {
  const pdu = sections.get(pduId)?.data;
  if (!pdu) return;
  if (action === "all_off") {
    const on = pdu.outlets.filter((o) => o.state === "ON" && !o.protected);
    const kept = pdu.outlets.filter((o) => o.state === "ON" && o.protected).map((o) => o.name);
    const message =
      `${on.length} outlet${on.length === 1 ? "" : "s"} of ${pdu.name} will be switched off at once.` +
      (kept.length > 0 ? ` Protected outlets stay on: ${kept.join(", ")}.` : "");
    if (!(await ask(`Switch all outlets of ${pdu.name} off?`, message, "Switch all off"))) return;
    await pduAction(pduId, { action: "all_off" }, pdu.name);
  } else {
    const off = pdu.outlets.filter((o) => o.state !== "ON").length;
    const message = `${off} outlet${off === 1 ? "" : "s"} of ${pdu.name} will be switched on one after another, to spread the inrush. Pending steps can be cancelled.`;
    if (!(await ask(`Switch all outlets of ${pdu.name} on?`, message, "Switch all on"))) return;
    await pduAction(pduId, { action: "all_on" }, pdu.name);
  }
}

function onCancel(pduId, id) {
  return pduAction(pduId, { action: "cancel", id }, sections.get(pduId)?.data.name ?? pduId);
}

function onCancelOutlet(pduId, n) {
  return pduAction(pduId, { action: "cancel", outlet: n }, `Outlet ${n}`);
}

// ---- live events ---------------------------------------------------------------------------------------

function connect() {
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => {
    link.open = true;
    link.everOpen = true;
    renderLink();
  });
  source.addEventListener("error", () => {
    link.open = false;
    renderLink();
    renderNav();
  });
  source.addEventListener("link", (event) => {
    link.broker = JSON.parse(event.data).broker;
    renderLink();
    renderNav();
  });
  source.addEventListener("pdu", (event) => {
    const pdu = JSON.parse(event.data);
    const isNew = !sections.has(pdu.id);
    render(pdu);
    if (isNew) select();
    else renderNav();
  });
}

connect();
