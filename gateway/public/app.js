// piPDU live page: every PDU on the bus from /api/events (Server-Sent Events), switching through the REST API.
// Plain browser JavaScript, no build step. Names from the bus are only ever set as text, never as HTML.

const pdusEl = document.getElementById("pdus");
const linkEl = document.getElementById("link");
const toastEl = document.getElementById("toast");
const tokenForm = document.getElementById("token-form");
const tokenInput = document.getElementById("token");
const sections = new Map(); // pdu id -> { section, outlets: Map<number, li>, data }
let toastTimer = null;

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

function toast(text, isError = false) {
  toastEl.textContent = text;
  toastEl.className = isError ? "error" : "";
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (toastEl.textContent = ""), 4000);
}

function fmt(value, decimals) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(decimals);
}

function text(root, selector, value) {
  const el = root.querySelector(selector);
  if (el.textContent !== value) el.textContent = value;
}

function sectionFor(pdu) {
  let entry = sections.get(pdu.id);
  if (!entry) {
    const section = document.getElementById("pdu-template").content.firstElementChild.cloneNode(true);
    section.dataset.pdu = pdu.id;
    entry = { section, outlets: new Map(), data: pdu };
    sections.set(pdu.id, entry);
    pdusEl.querySelector(".empty")?.remove();
    const after = [...sections.keys()].sort().indexOf(pdu.id);
    pdusEl.insertBefore(section, pdusEl.children[after] ?? null);
  }
  return entry;
}

function outletFor(entry, pduId, outlet) {
  let li = entry.outlets.get(outlet.number);
  if (!li) {
    li = document.getElementById("outlet-template").content.firstElementChild.cloneNode(true);
    li.dataset.pdu = pduId;
    li.dataset.outlet = String(outlet.number);
    li.querySelector(".toggle").addEventListener("click", () => onToggle(pduId, outlet.number));
    li.querySelector(".cycle").addEventListener("click", () => onCycle(pduId, outlet.number));
    entry.outlets.set(outlet.number, li);
    entry.section.querySelector(".outlets").append(li);
  }
  return li;
}

function render(pdu) {
  const entry = sectionFor(pdu);
  entry.data = pdu;
  const { section } = entry;
  section.classList.toggle("is-offline", !pdu.online);
  text(section, ".pdu-name", pdu.name);
  text(section, ".pdu-id", pdu.id);
  const availability = section.querySelector(".availability");
  availability.textContent = pdu.online ? "online" : "offline";
  availability.className = `badge availability ${pdu.online ? "online" : "offline"}`;
  text(section, ".total-power", fmt(pdu.totals.power, 1));
  text(section, ".total-current", fmt(pdu.totals.current, 2));
  text(section, ".total-energy", fmt(pdu.totals.energy, 3));
  text(section, ".total-on", `${pdu.totals.outletsOn} / ${pdu.outlets.length}`);
  for (const outlet of pdu.outlets) {
    const li = outletFor(entry, pdu.id, outlet);
    li.dataset.state = outlet.state ?? "";
    text(li, ".number", String(outlet.number));
    text(li, ".name", outlet.name);
    li.querySelector(".lock").hidden = !outlet.protected;
    const state = li.querySelector(".state");
    state.textContent = outlet.state ?? "?";
    state.className = `state badge ${outlet.state === "ON" ? "on" : ""}`;
    text(li, ".power", fmt(outlet.power, 1));
    text(li, ".current", fmt(outlet.current, 2));
    text(li, ".energy", fmt(outlet.energy, 3));
    const toggle = li.querySelector(".toggle");
    toggle.textContent = outlet.state === "ON" ? "Turn off" : "Turn on";
    toggle.disabled = !pdu.online;
    li.querySelector(".cycle").disabled = !pdu.online;
  }
  for (const [n, li] of entry.outlets) {
    if (!pdu.outlets.some((o) => o.number === n)) {
      li.remove();
      entry.outlets.delete(n);
    }
  }
}

function outletData(pduId, n) {
  return sections.get(pduId)?.data.outlets.find((o) => o.number === n);
}

function onToggle(pduId, n) {
  const outlet = outletData(pduId, n);
  if (!outlet) return;
  const action = outlet.state === "ON" ? "off" : "on";
  send(pduId, outlet, action);
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
  const headers = { "content-type": "application/json" };
  if (token()) headers.authorization = `Bearer ${token()}`;
  try {
    const response = await fetch(`/api/pdus/${encodeURIComponent(pduId)}/outlets/${outlet.number}`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    const reply = await response.json();
    if (response.ok) toast(`${outlet.name}: ${action} done, now ${reply.state}`);
    else toast(`${outlet.name}: ${reply.message ?? reply.error?.message ?? response.statusText}`, true);
    if (response.status === 401) tokenForm.hidden = false;
  } catch (err) {
    toast(`${outlet.name}: ${err.message}`, true);
  }
}

function connect() {
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => {
    linkEl.textContent = "live";
    linkEl.classList.add("live");
  });
  source.addEventListener("error", () => {
    linkEl.textContent = "reconnecting…";
    linkEl.classList.remove("live");
  });
  source.addEventListener("pdu", (event) => render(JSON.parse(event.data)));
}

connect();
