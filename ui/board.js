// board.js - the board (/ui/): counts at the top (/v1/summary), filters and search, open
// tickets by their next deadline (/v1/tickets?sort=due, paged), a live countdown per running
// clock, refreshed from the event stream without reloading.
import {describe, get, query} from "/ui/api.js";
import {t} from "/ui/i18n.js";
import {onTickets} from "/ui/stream.js";
import {clear, countdown, h, notice, risk, severityLabel, startTicking, statusLabel} from "/ui/util.js";

const PAGE_SIZE = 50;
const STATUSES = ["open", "acknowledged", "dispatched", "on_site", "on_hold"];
const TEXT_FILTERS = ["team", "region", "assignee"];

function filtersFromUrl() {
  const p = new URLSearchParams(location.search);
  const f = {};
  for (const k of ["q", ...TEXT_FILTERS, "severity", "status", "after"]) if (p.get(k)) f[k] = p.get(k);
  if (p.get("at_risk") === "true") f.at_risk = "true";
  if (p.get("breached") === "true") f.breached = "true";
  return f;
}

function summaryBox() {
  const items = [["open", "summary.open"], ["at_risk", "summary.at_risk"], ["breached", "summary.breached"],
    ["dead_notifications", "summary.dead"]];
  return h("dl", {class: "summary", id: "summary"}, items.map(([k, label]) =>
    h("div", {class: "count count-" + k},
      h("dt", {}, t(label)),
      h("dd", {"data-count": k}, "…"))));
}

async function loadSummary() {
  try {
    const s = await get("/v1/summary");
    for (const [k, v] of Object.entries(s)) {
      const e = document.querySelector(`[data-count="${k}"]`);
      if (e) e.textContent = String(v);
    }
    const dead = document.querySelector(".count-dead_notifications");
    if (dead) dead.classList.toggle("alert", s.dead_notifications > 0);
  } catch (e) {
    notice(describe(e), "error");
  }
}

function filterForm(f) {
  const text = (name, label, extra = {}) => h("div", {class: "field"},
    h("label", {for: "f-" + name}, t(label)),
    h("input", {id: "f-" + name, name, value: f[name] || "", ...extra}));
  const select = (name, label, options) => h("div", {class: "field"},
    h("label", {for: "f-" + name}, t(label)),
    h("select", {id: "f-" + name, name},
      h("option", {value: ""}, t("filter.any")),
      options.map(([v, l]) => h("option", {value: v, selected: String(f[name] || "") === String(v)}, l))));
  const check = (name, label) => h("div", {class: "field check"},
    h("input", {type: "checkbox", id: "f-" + name, name, value: "true", checked: f[name] === "true"}),
    h("label", {for: "f-" + name}, t(label)));
  return h("form", {class: "filters", method: "get", action: "/ui/", role: "search"},
    text("q", "filter.q", {type: "search", placeholder: t("filter.q.placeholder"), class: "wide"}),
    text("team", "filter.team"), text("region", "filter.region"), text("assignee", "filter.assignee"),
    select("severity", "filter.severity", [1, 2, 3, 4, 5].map((n) => [n, t("severity." + n)])),
    select("status", "filter.status", STATUSES.map((s) => [s, t("status." + s)])),
    check("at_risk", "filter.at_risk"), check("breached", "filter.breached"),
    h("div", {class: "buttons"},
      h("button", {type: "submit", class: "primary"}, t("filter.apply")),
      h("a", {href: "/ui/", class: "button"}, t("filter.reset"))));
}

function runningClocks(ticket) {
  return (ticket.clocks || []).filter((c) => (c.state === "running" || c.state === "breached") && c.due_at);
}

function ticketCard(ticket, now) {
  const clocks = runningClocks(ticket);
  const risks = clocks.map((c) => risk(c.due_at, c.target_s, now));
  const worst = risks.includes("breached") ? "breached" : risks.includes("at_risk") ? "at-risk" : "";
  const who = [ticket.team, ticket.assignee, ticket.customer && ticket.customer.name, ticket.region].filter(Boolean);
  return h("li", {class: "ticket " + worst, "data-ticket-id": ticket.id, "data-status": ticket.status},
    h("div", {class: "ticket-head"},
      h("a", {class: "ticket-title", href: "/ui/tickets/" + ticket.id},
        h("span", {class: "tid"}, "#" + ticket.id), " ", ticket.title),
      h("span", {class: "badges"}, severityLabel(ticket.severity), " ", statusLabel(ticket.status))),
    who.length ? h("p", {class: "meta"}, who.join(" · ")) : null,
    clocks.length ? h("div", {class: "clocks"}, clocks.map((c) => countdown(c))) : null);
}

export async function render(main, session) {
  const f = filtersFromUrl();
  const list = h("ol", {class: "tickets", id: "tickets", "aria-live": "off"});
  const pager = h("nav", {class: "pager", "aria-label": t("board.next")});
  const live = h("span", {class: "live", id: "live"}, t("board.live"));
  main.append(summaryBox(),
    h("details", {class: "filter-box", open: Object.keys(f).some((k) => k !== "after") || window.innerWidth > 700},
      h("summary", {}, t("filter.title")), filterForm(f)),
    h("div", {class: "board-head"}, h("h1", {}, t("board.title")), live),
    list, pager);

  let loading = null;
  async function loadList() {
    // open=true: any status but resolved, closed, cancelled (a chosen status is narrower)
    const params = {sort: "due", limit: PAGE_SIZE, open: f.status ? null : "true", ...f};
    let page;
    try {
      page = await get("/v1/tickets" + query(params));
    } catch (e) {
      notice(describe(e), "error");
      return;
    }
    const now = Date.now();
    const items = page.tickets.map((tk) => ticketCard(tk, now));
    clear(list);
    if (items.length === 0) list.append(h("li", {class: "empty"}, t("board.empty")));
    else list.append(...items);
    clear(pager);
    if (f.after) pager.append(h("a", {href: "/ui/" + query({...f, after: null})}, t("board.first")));
    if (page.next !== null && page.next !== undefined) {
      pager.append(h("a", {href: "/ui/" + query({...f, after: page.next}), rel: "next"}, t("board.next")));
    }
  }
  function refresh() {
    // one refresh at a time; a change during one schedules another right after it
    if (loading) {
      loading.again = true;
      return;
    }
    loading = {again: false};
    Promise.all([loadList(), loadSummary()]).finally(() => {
      const again = loading.again;
      loading = null;
      if (again) refresh();
    });
  }
  await Promise.all([loadList(), loadSummary()]);
  startTicking();
  performance.mark("slad-board-rendered"); // tests/bench/bench_board_browser.py reads it
  onTickets(() => refresh(), (ok) => {
    live.classList.toggle("off", !ok);
    live.textContent = ok ? t("board.live") : t("board.offline");
  });
  document.body.dataset.ready = "board";
}
