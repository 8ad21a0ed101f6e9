// action.js - the page behind a notification's link (/a/<code>): no sign-in, the code is
// the credential. Shows the ticket and the actions the code allows now (acknowledge, take
// over); a forged, expired or used code gets a page that says so.
import {api, describe} from "/ui/api.js";
import {lang, otherLang, setLang, t} from "/ui/i18n.js";
import {clear, clockName, countdown, h, severityLabel, startTicking, statusLabel, timeEl, when} from "/ui/util.js";

/** The ticket event each action does (the test hook data-event names the event). */
const ACTION_EVENT = {acknowledge: "acknowledge", take: "dispatch"};

const code = decodeURIComponent(location.pathname.replace(/^\/a\//, "").replace(/\/$/, ""));
const path = "/v1/actions/" + encodeURIComponent(code);

function refusal(e) {
  const kind = e.code === "action_expired" ? "expired" : e.code === "action_used" ? "used"
    : e.status === 429 ? "throttled" : e.status === 404 || e.code === "action_unknown" ? "unknown" : null;
  return h("div", {class: "refused", id: "refused", "data-refused": kind || e.code},
    h("h1", {}, kind ? t("action." + kind) : describe(e)),
    h("p", {}, h("a", {href: "/ui/", class: "button"}, t("action.console"))));
}

function ticketSummary(tk) {
  const running = (tk.clocks || []).filter((c) => (c.state === "running" || c.state === "breached") && c.due_at);
  return h("section", {class: "card", "data-ticket-id": tk.id},
    h("h1", {}, h("span", {class: "tid"}, "#" + tk.id), " ", tk.title),
    h("p", {}, severityLabel(tk.severity), " ", statusLabel(tk.status)),
    h("dl", {class: "fields"},
      [["field.customer", tk.customer && tk.customer.name], ["field.address", tk.customer && tk.customer.address],
        ["field.device", tk.device && [tk.device.model, tk.device.serial].filter(Boolean).join(" ")],
        ["field.team", tk.team], ["field.assignee", tk.assignee]]
        .filter(([, v]) => v).map(([k, v]) => h("div", {}, h("dt", {}, t(k)), h("dd", {}, v))),
      h("div", {}, h("dt", {}, t("field.reported_at")), h("dd", {}, timeEl(tk.reported_at)))),
    running.length ? h("div", {class: "clocks"}, running.map((c) => countdown(c))) : null,
    (tk.clocks || []).filter((c) => !running.includes(c)).map((c) =>
      h("p", {class: "muted"}, clockName(c.name), ": ", t("cstate." + c.state))));
}

async function show(main, message) {
  clear(main);
  let info;
  try {
    info = await api("GET", path);
  } catch (e) {
    main.append(refusal(e));
    return;
  }
  const status = h("p", {id: "notice", role: "status", "aria-live": "polite"}, message || "");
  const buttons = (info.actions || []).map((a) => h("button", {type: "button", class: "primary big",
    "data-event": ACTION_EVENT[a] || a, "data-action": a, onclick: async (ev) => {
      ev.target.disabled = true;
      try {
        const r = await api("POST", path, {action: a});
        clear(main);
        main.append(ticketSummary(r.ticket),
          h("p", {class: "notice notice-ok", id: "done", role: "status"}, t("action.done", t("status." + r.ticket.status))));
      } catch (e) {
        status.textContent = e.status === 409 ? t("action.refused", e.message) : "";
        if (e.status !== 409) {
          clear(main);
          main.append(refusal(e));
        }
        ev.target.disabled = false;
      }
    }}, t("event." + a)));
  main.append(ticketSummary(info.ticket),
    h("p", {}, t("action.for", info.contact)),
    buttons.length ? h("div", {class: "event-buttons"}, buttons) : h("p", {class: "muted"}, t("action.none")),
    status,
    h("p", {class: "muted"}, t("action.expires", when(info.expires_at))));
  startTicking();
}

function start() {
  document.documentElement.lang = lang();
  document.title = t("app.name");
  const main = h("main", {id: "main"});
  clear(document.body);
  document.body.append(h("header", {class: "top"}, h("span", {class: "brand"}, "slad"),
    h("div", {class: "tools"}, h("button", {type: "button", class: "lang", id: "lang-switch", lang: otherLang(),
      "aria-label": t("lang.switch.label"), onclick: () => { setLang(otherLang()); location.reload(); }}, t("lang.switch")))), main);
  show(main).then(() => { document.body.dataset.ready = "action"; });
}

start();
