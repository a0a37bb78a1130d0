// The CloudDB console: polls /console/data and redraws. Every value is put in the page with
// textContent, never parsed as HTML: names and labels come from users.
"use strict";

const POLL_MS = 500;
// The selected instance of each project ("project" -> instance name).
const selected = new Map();
let last = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function table(headers, rows, emptyText) {
  const t = el("table", {});
  t.append(el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", {}, h)))));
  const body = el("tbody", {});
  if (rows.length === 0) {
    body.append(el("tr", {}, el("td", { class: "empty", colSpan: headers.length }, emptyText)));
  }
  for (const r of rows) body.append(r);
  t.append(body);
  return t;
}

function labels(obj) {
  const span = el("span", { class: "labels" });
  for (const [k, v] of Object.entries(obj || {})) span.append(el("span", { class: "label" }, `${k}=${v}`));
  return span;
}

function stateBadge(state) {
  return el("span", { class: `state state-${String(state).replace(/[^A-Z_]/g, "")}` }, state);
}

function renderProject(p) {
  const sec = el("section", { class: "project", "data-project": p.project });
  sec.append(el("h2", {}, `Project ${p.project}`));

  const sel = selected.get(p.project);
  const chosen = p.instances.find((i) => i.name === sel) || p.instances[0];
  sec.append(el("h3", {}, "Instances"));
  sec.append(table(
    ["Name", "State", "Tier", "Engine", "Endpoint", "Labels", "Operation"],
    p.instances.map((i) => {
      const tr = el("tr", {
        class: `instance${chosen && chosen.name === i.name ? " selected" : ""}`,
        "data-name": i.name,
        "data-state": i.state,
      },
        el("td", { class: "name" }, i.name),
        el("td", {}, stateBadge(i.state)),
        el("td", {}, i.tier),
        el("td", {}, `${i.engine} ${i.engine_version}`),
        el("td", {}, i.endpoint),
        el("td", {}, labels(i.labels)),
        el("td", {}, i.current_operation || ""));
      tr.addEventListener("click", () => { selected.set(p.project, i.name); redraw(); });
      return tr;
    }),
    "no instances"));

  sec.append(el("h3", {}, "Operations in progress"));
  sec.append(table(
    ["Id", "Verb", "Target", "Progress", "Estimated done"],
    p.operations.map((o) => {
      const pct = o.progress === null ? null : Math.round(o.progress * 100);
      return el("tr", { class: "operation", "data-id": o.id },
        el("td", {}, o.id), el("td", {}, o.verb), el("td", {}, o.target),
        el("td", {}, pct === null ? "?" : el("progress", { max: 100, value: pct }), pct === null ? "" : ` ${pct}%`),
        el("td", {}, o.estimated_done_at));
    }),
    "none"));

  if (chosen) {
    sec.append(el("h3", {}, `Instance ${chosen.name}: databases, users, firewall rules`));
    sec.append(table(["Database", "Charset", "Collation"],
      chosen.databases.map((d) => el("tr", {}, el("td", {}, d.name), el("td", {}, d.charset || ""), el("td", {}, d.collation || ""))),
      "no databases"));
    sec.append(table(["User", "Roles"],
      chosen.users.map((u) => el("tr", {}, el("td", {}, u.name), el("td", {}, (u.roles || []).join(", ")))),
      "no users"));
    sec.append(table(["Firewall rule", "CIDR", "Description"],
      chosen.firewall_rules.map((f) => el("tr", {}, el("td", {}, f.name), el("td", {}, f.cidr || ""), el("td", {}, f.description || ""))),
      "no firewall rules"));
  }

  sec.append(el("h3", {}, "Backups"));
  sec.append(table(["Backup", "Instance", "Kind", "State", "Created"],
    p.backups.map((b) => el("tr", {}, el("td", {}, b.name), el("td", {}, b.instance || ""), el("td", {}, b.kind || b.type || ""),
      el("td", {}, b.state || ""), el("td", {}, b.created_at || ""))),
    "no backups"));
  return sec;
}

function replaceBody(id, rows, cols, emptyText) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { class: "empty", colSpan: cols }, emptyText))]));
}

function redraw() {
  if (!last) return;
  document.getElementById("projects").replaceChildren(...last.projects.map(renderProject));
  replaceBody("requests", last.requests.map((r) => el("tr", { class: "request" },
    el("td", {}, r.time), el("td", {}, r.method), el("td", {}, r.path), el("td", {}, r.status),
    el("td", {}, r.duration_ms), el("td", {}, r.request_id))), 6, "no requests yet");
  replaceBody("faults", last.faults.map((f) => {
    const { id, kind, method, path_prefix, remaining, hits, ...rest } = f;
    return el("tr", { class: "fault" }, el("td", {}, id), el("td", {}, kind), el("td", {}, method || "any"),
      el("td", {}, path_prefix || "any"), el("td", {}, remaining === null ? "unlimited" : remaining), el("td", {}, hits),
      el("td", {}, JSON.stringify(rest)));
  }), 7, "none");
}

async function poll() {
  const status = document.getElementById("status");
  try {
    const r = await fetch("/console/data", { credentials: "same-origin", cache: "no-store" });
    if (r.status === 401) {
      status.textContent = "signed out: reload to sign in";
      return;
    }
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    last = await r.json();
    redraw();
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    status.textContent = `cannot reach the server (${e.message}); retrying`;
  }
  setTimeout(poll, POLL_MS);
}

poll();
