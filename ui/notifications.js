// notifications.js - the outbox (/ui/notifications): dead ones by default, filtered by
// state, channel and event; retry one, or all those the filter shows.
import {canAct, describe, get, post, query} from "/ui/api.js";
import {t} from "/ui/i18n.js";
import {clear, eventName, h, notice, timeEl} from "/ui/util.js";

const STATES = ["dead", "pending", "sent"];

export async function render(main) {
  const p = new URLSearchParams(location.search);
  const f = {state: p.get("state") || "dead", channel: p.get("channel") || "", event: p.get("event") || ""};
  const form = h("form", {class: "filters", method: "get", action: "/ui/notifications"},
    h("div", {class: "field"}, h("label", {for: "n-state"}, t("notif.state")),
      h("select", {id: "n-state", name: "state"}, STATES.map((s) => h("option", {value: s, selected: s === f.state}, t("nstate." + s))))),
    h("div", {class: "field"}, h("label", {for: "n-channel"}, t("col.channel")), h("input", {id: "n-channel", name: "channel", value: f.channel})),
    h("div", {class: "field"}, h("label", {for: "n-event"}, t("col.event")), h("input", {id: "n-event", name: "event", value: f.event, placeholder: "sla.breach"})),
    h("div", {class: "buttons"}, h("button", {type: "submit", class: "primary"}, t("filter.apply"))));
  const body = h("div", {});
  main.append(h("h1", {}, t("notif.title")), form, body);

  async function retry(ids) {
    let done = 0;
    for (const id of ids) {
      try {
        await post(`/v1/notifications/${id}/retry`);
        done++;
      } catch (e) {
        notice(describe(e), "error");
        break;
      }
    }
    if (done) notice(t("notif.retried", done), "ok");
    await load();
  }

  async function load() {
    let page;
    try {
      page = await get("/v1/notifications" + query({...f, limit: 200}));
    } catch (e) {
      notice(describe(e), "error");
      return;
    }
    clear(body);
    const list = page.notifications;
    if (!list.length) {
      body.append(h("p", {class: "muted"}, t("notif.empty")));
      return;
    }
    const act = canAct() && f.state === "dead";
    if (act) body.append(h("p", {}, h("button", {type: "button", id: "retry-all", onclick: () => retry(list.map((n) => n.id))},
      t("notif.retry_all", list.length))));
    body.append(h("div", {class: "table-wrap"}, h("table", {},
      h("thead", {}, h("tr", {}, ["col.id", "col.ticket", "col.event", "col.recipient", "col.channel", "col.state", "col.attempts",
        "col.error", "col.created", act ? "col.action" : null].filter(Boolean).map((c) => h("th", {scope: "col"}, t(c))))),
      h("tbody", {}, list.map((n) => h("tr", {"data-notification": n.id},
        h("td", {}, String(n.id)),
        h("td", {}, n.ticket_id ? h("a", {href: "/ui/tickets/" + n.ticket_id}, "#" + n.ticket_id) : t("none")),
        h("td", {}, eventName(n.event)), h("td", {}, n.contact || n.recipient), h("td", {}, n.channel || t("none")),
        h("td", {}, h("span", {class: "nstate nstate-" + n.state}, t("nstate." + n.state))),
        h("td", {}, String(n.attempts)), h("td", {class: "error-text"}, n.last_error || ""),
        h("td", {}, timeEl(n.created_at)),
        act ? h("td", {}, h("button", {type: "button", "data-retry": n.id, onclick: () => retry([n.id])}, t("notif.retry"))) : null))))));
  }
  await load();
  document.body.dataset.ready = "notifications";
}
