// followups.js - follow-ups (/ui/followups): the due and overdue ones first, completed with
// an outcome and a note by an operator.
import {canAct, describe, get, post, query} from "/ui/api.js";
import {t} from "/ui/i18n.js";
import {clear, h, notice, timeEl} from "/ui/util.js";

const STATES = ["due", "overdue", "pending", "done"];

function completeForm(f, reload) {
  const form = h("form", {class: "inline"},
    h("label", {for: "outcome-" + f.id, class: "sr-only"}, t("followups.outcome")),
    h("select", {id: "outcome-" + f.id, name: "outcome", required: true},
      ["satisfied", "unsatisfied", "unreachable"].map((o) => h("option", {value: o}, t("outcome." + o)))),
    h("label", {for: "note-" + f.id, class: "sr-only"}, t("followups.note")),
    h("input", {id: "note-" + f.id, name: "note", placeholder: t("followups.note"), maxlength: 1024}),
    h("button", {type: "submit", "data-complete": f.id}, t("followups.complete")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {outcome: form.outcome.value};
    if (form.note.value.trim()) body.note = form.note.value.trim();
    try {
      await post(`/v1/followups/${f.id}/complete`, body);
      notice(t("followups.done") + ": #" + f.id, "ok");
      reload();
    } catch (e) {
      notice(describe(e), "error");
    }
  });
  return form;
}

export async function render(main) {
  const state = new URLSearchParams(location.search).get("state") || "due";
  const tabs = h("nav", {class: "tabs", "aria-label": t("followups.title")}, STATES.map((s) =>
    h("a", {href: "/ui/followups?state=" + s, "aria-current": s === state ? "page" : null}, t("followups." + s))));
  const body = h("div", {});
  main.append(h("h1", {}, t("followups.title")), tabs, body);
  async function load() {
    let page;
    try {
      page = await get("/v1/followups" + query({state, limit: 200}));
    } catch (e) {
      notice(describe(e), "error");
      return;
    }
    clear(body);
    if (!page.followups.length) {
      body.append(h("p", {class: "muted"}, t("followups.empty")));
      return;
    }
    const act = canAct() && state !== "done";
    body.append(h("div", {class: "table-wrap"}, h("table", {},
      h("thead", {}, h("tr", {}, ["col.id", "col.ticket", "col.name", "col.owner", "col.due", "col.deadline", "col.state",
        act ? "col.action" : "followups.outcome"].map((c) => h("th", {scope: "col"}, t(c))))),
      h("tbody", {}, page.followups.map((f) => h("tr", {"data-followup": f.id, class: "fstate-" + f.state},
        h("td", {}, String(f.id)),
        h("td", {}, f.ticket_id ? h("a", {href: "/ui/tickets/" + f.ticket_id}, "#" + f.ticket_id) : f.plan_id ? t("nav.plans") + " " + f.plan_id : t("none")),
        h("td", {}, f.name), h("td", {}, f.owner), h("td", {}, timeEl(f.due_at)), h("td", {}, timeEl(f.deadline_at)),
        h("td", {}, h("span", {class: "fstate"}, t("followups." + f.state))),
        h("td", {}, act ? completeForm(f, load) : f.outcome ? t("outcome." + f.outcome) : t("none"))))))));
  }
  await load();
  document.body.dataset.ready = "followups";
}
