// ticket.js - one ticket (/ui/tickets/ID): its fields, clocks with progress bars, what the
// engine will do next, the timeline (history and notifications), and for operators the
// buttons of exactly the events its status allows (hold asks a reason, dispatch an
// assignee) and a comment box. Refreshed when the stream reports a change to it.
import {ApiError, canAct, describe, get, post} from "/ui/api.js";
import {t, tOr} from "/ui/i18n.js";
import {onTickets} from "/ui/stream.js";
import {clear, clockName, countdown, duration, eventName, h, notice, severityLabel, startTicking, statusLabel, timeEl, when} from "/ui/util.js";

/** SPEC's table: the events each status allows (comment, always allowed, has its own box). */
export const EVENTS = {
  open: ["acknowledge", "dispatch", "arrive", "hold", "resolve", "cancel"],
  acknowledged: ["dispatch", "arrive", "hold", "resolve", "cancel"],
  dispatched: ["dispatch", "arrive", "hold", "resolve", "cancel"],
  on_site: ["hold", "resolve", "cancel"],
  on_hold: ["resume", "resolve", "cancel"],
  resolved: ["reopen", "close", "cancel"],
  closed: ["reopen"],
  cancelled: [],
};

/** What an event needs asked before it is sent: [field, label, required]. */
const ASKS = {
  hold: ["reason", "dialog.hold.reason", "dialog.hold"],
  dispatch: ["assignee", "dialog.dispatch.assignee", "dialog.dispatch"],
};

function text(v) {
  return v === null || v === undefined || v === "" ? t("none") : String(v);
}

function details(tk) {
  const rows = [
    ["field.status", statusLabel(tk.status)], ["field.severity", severityLabel(tk.severity)],
    ["field.policy", text(tk.policy)], ["field.grade", text(tk.grade)], ["field.region", text(tk.region)],
    ["field.team", text(tk.team)], ["field.assignee", text(tk.assignee)],
    ["field.customer", text(tk.customer.name)], ["field.phone", tk.customer.phone ? h("a", {href: "tel:" + tk.customer.phone}, tk.customer.phone) : t("none")],
    ["field.address", text(tk.customer.address)],
    ["field.device", text(tk.device.model)], ["field.serial", text(tk.device.serial)],
    ["field.fault_code", text(tk.fault_code)], ["field.reported_at", timeEl(tk.reported_at)],
    ["field.appointment_at", timeEl(tk.appointment_at)],
    ["field.source", text(tk.source)], ["field.external_id", text(tk.external_id)],
    ["field.reopen_count", String(tk.reopen_count)], ["field.repeat_count", String(tk.repeat_count)],
    ["field.created_at", timeEl(tk.created_at)], ["field.updated_at", timeEl(tk.updated_at)],
  ];
  const labels = Object.entries(tk.labels || {});
  if (labels.length) rows.push(["field.labels", labels.map(([k, v]) => h("span", {class: "label"}, k + "=" + v))]);
  return h("section", {class: "card", "aria-labelledby": "h-details"},
    h("h2", {id: "h-details"}, t("ticket.details")),
    tk.description ? h("p", {class: "description"}, tk.description) : null,
    h("dl", {class: "fields"}, rows.map(([k, v]) => h("div", {}, h("dt", {}, t(k)), h("dd", {}, v)))));
}

function clocks(tk) {
  return h("section", {class: "card", "aria-labelledby": "h-clocks"},
    h("h2", {id: "h-clocks"}, t("ticket.clocks")),
    h("ul", {class: "clock-list"}, tk.clocks.map((c) => {
      const running = (c.state === "running" || c.state === "breached") && c.due_at;
      const ratio = c.target_s > 0 ? Math.min(c.elapsed_s / c.target_s, 1) : 0;
      const cls = c.state === "breached" || c.state === "missed" ? "breached" : running && ratio >= 0.75 ? "at-risk" : c.state;
      return h("li", {class: "clock clock-" + cls, "data-clock": c.name},
        h("div", {class: "clock-head"},
          h("strong", {}, clockName(c.name)), " ",
          h("span", {class: "cstate cstate-" + c.state}, t("cstate." + c.state)),
          running ? countdown(c, false) : null),
        h("progress", {max: c.target_s || 1, value: Math.min(c.elapsed_s, c.target_s || 1),
          "aria-label": clockName(c.name) + " " + t("ticket.elapsed", duration(c.elapsed_s), duration(c.target_s))}),
        h("p", {class: "clock-foot"}, t("ticket.elapsed", duration(c.elapsed_s), duration(c.target_s)),
          c.due_at ? [" · ", t("clock.due", when(c.due_at))] : null));
    })));
}

function recipient(r) {
  const who = tOr("role." + r.role, r.role) + (r.contact && r.contact !== r.role ? " " + r.contact : "");
  return h("span", {class: "recipient" + (r.error ? " unreachable" : "")}, who,
    r.channel ? h("span", {class: "muted"}, " (" + r.channel + ")") : null,
    r.error ? h("span", {class: "error-text"}, " " + r.error) : null);
}

function nextSteps(next) {
  const steps = next && next.steps ? next.steps : [];
  return h("section", {class: "card", "aria-labelledby": "h-next"},
    h("h2", {id: "h-next"}, t("ticket.next")),
    steps.length === 0 ? h("p", {class: "muted"}, t("ticket.next.none")) :
      h("ol", {class: "next-steps"}, steps.map((s) => h("li", {"data-step": s.step},
        h("span", {class: "step-when"}, timeEl(s.at)), " ",
        h("strong", {}, clockName(s.clock)), " ", s.percent + "% ", eventName(s.event),
        s.repeat ? " " + t("next.repeat", s.repeat) : "", " → ",
        (s.recipients || []).map((r, i) => [i ? ", " : "", recipient(r)])))),
    next && next.more ? h("p", {class: "muted"}, t("ticket.more.next")) : null);
}

function historyLine(e) {
  switch (e.kind) {
    case "event": {
      const parts = [t("event." + e.event)];
      if (e.from && e.to && e.from !== e.to) parts.push(t("status." + e.from) + " → " + t("status." + e.to));
      if (e.by) parts.push(t("tl.by", e.by));
      const note = [e.reason, e.note].filter(Boolean).join(" / ");
      return [parts.join(" · "), note ? h("q", {}, note) : null];
    }
    case "create": return t("tl.create") + (e.source ? " (" + e.source + ")" : "");
    case "patch": return t("tl.patch") + (e.by ? " · " + t("tl.by", e.by) : "");
    case "policy": return t("tl.policy", e.policy);
    case "clock": return t("tl.clock", clockName(e.clock), t("cstate." + e.state));
    case "step": return [t("tl.step", e.step, clockName(e.clock)), e.recipients ? " → " + e.recipients.join(", ") : ""];
    case "reminder": return t("tl.reminder");
    case "repeat_fault": return t("tl.repeat_fault", e.repeat_count);
    case "notification_retry": return t("tl.notification_retry", e.notification_id);
    default:
      if (e.kind.startsWith("followup")) return t("tl.followup", e.followup || "") + (e.outcome ? " · " + t("outcome." + e.outcome) : "");
      return e.kind + (e.detail ? ": " + e.detail : "");
  }
}

function timeline(tk) {
  const items = [];
  for (const e of tk.history) items.push({at: e.at, node: h("li", {class: "tl tl-" + e.kind},
    timeEl(e.at), " ", h("span", {}, historyLine(e)), e.late ? h("span", {class: "tag"}, t("tl.late")) : null)});
  for (const n of tk.notifications) items.push({at: n.created_at, node: h("li", {class: "tl tl-notification", "data-notification": n.id},
    timeEl(n.created_at), " ",
    eventName(n.event), " ", h("span", {}, t("tl.notification", "", n.contact || n.recipient, n.channel || t("none"))), " ",
    h("span", {class: "nstate nstate-" + n.state}, t("nstate." + n.state)),
    n.last_error ? h("span", {class: "muted"}, " " + n.last_error) : null)});
  // newest first; entries of one instant in the reverse of their recorded order
  items.forEach((item, i) => { item.i = i; });
  items.sort((a, b) => Date.parse(b.at) - Date.parse(a.at) || b.i - a.i);
  return h("section", {class: "card wide", "aria-labelledby": "h-timeline"},
    h("h2", {id: "h-timeline"}, t("ticket.timeline")),
    h("ol", {class: "timeline"}, items.map((i) => i.node)),
    tk.history_more || tk.notifications_more ? h("p", {class: "muted"}, t("ticket.more")) : null);
}

/** A modal that asks what the event needs; resolves with the body's extra fields or null. */
function ask(type) {
  const [field, label, title] = ASKS[type] || [null, null, null];
  return new Promise((resolve) => {
    const form = h("form", {method: "dialog"},
      h("h2", {}, title ? t(title) : t("dialog.confirm", t("event." + type))),
      field ? [h("label", {for: "ask-" + field}, t(label)),
        h("input", {id: "ask-" + field, name: field, required: true, maxlength: 256, autocomplete: "off"})] : null,
      h("label", {for: "ask-note"}, t("dialog.note")),
      h("textarea", {id: "ask-note", name: "note", rows: 2, maxlength: 1024}),
      h("div", {class: "buttons"},
        h("button", {type: "submit", class: "primary", value: "ok"}, t("dialog.confirm", t("event." + type))),
        h("button", {type: "button", value: "cancel", onclick: () => dialog.close("cancel")}, t("cancel"))));
    const dialog = h("dialog", {class: "ask", "data-ask": type, "aria-label": title ? t(title) : t("event." + type)}, form);
    dialog.addEventListener("close", () => {
      const ok = dialog.returnValue === "ok";
      const body = {};
      if (ok && field) body[field] = form[field].value.trim();
      if (ok && form.note.value.trim()) body.note = form.note.value.trim();
      dialog.remove();
      resolve(ok ? body : null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

async function sendEvent(id, type, extra) {
  try {
    await post(`/v1/tickets/${id}/events`, {type, ...extra});
    notice(t("done.event", t("event." + type)), "ok");
    return true;
  } catch (e) {
    notice(describe(e), "error");
    return false;
  }
}

function actions(tk, reload) {
  if (!canAct()) return h("section", {class: "card", "aria-labelledby": "h-actions"},
    h("h2", {id: "h-actions"}, t("ticket.actions")), h("p", {class: "muted", id: "read-only"}, t("ticket.noactions")));
  const allowed = EVENTS[tk.status] || [];
  const buttons = allowed.map((type) => h("button", {type: "button", class: "event event-" + type, "data-event": type,
    onclick: async (ev) => {
      const needsAsk = ASKS[type] || type === "cancel";
      const extra = needsAsk ? await ask(type) : {};
      if (extra === null) return;
      ev.target.disabled = true;
      if (await sendEvent(tk.id, type, extra)) await reload();
      else ev.target.disabled = false;
    }}, t("event." + type)));
  const comment = h("form", {class: "comment"},
    h("label", {for: "comment-note"}, t("ticket.comment")),
    h("textarea", {id: "comment-note", name: "note", rows: 3, required: true, maxlength: 4096}),
    h("button", {type: "submit", "data-event": "comment"}, t("ticket.comment.submit")));
  comment.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (await sendEvent(tk.id, "comment", {note: comment.note.value.trim()})) {
      comment.reset();
      await reload();
    }
  });
  return h("section", {class: "card", "aria-labelledby": "h-actions"},
    h("h2", {id: "h-actions"}, t("ticket.actions")),
    buttons.length ? h("div", {class: "event-buttons"}, buttons) : h("p", {class: "muted"}, t("ticket.noevents")),
    comment);
}

export async function render(main, session, match) {
  const id = Number(match[1]);
  const view = h("div", {class: "ticket-page"});
  main.append(h("p", {class: "back"}, h("a", {href: "/ui/"}, "← " + t("ticket.back"))), view);

  async function load() {
    let tk, next = null;
    try {
      [tk, next] = await Promise.all([get(`/v1/tickets/${id}`),
        get(`/v1/tickets/${id}/next`).catch((e) => (e instanceof ApiError && e.status !== 0 ? null : Promise.reject(e)))]);
    } catch (e) {
      clear(view);
      view.append(h("p", {class: "notice notice-error", role: "alert"}, e.status === 404 ? t("ticket.notfound", id) : describe(e)));
      return;
    }
    document.title = t("ticket.title", id) + " · " + tk.title;
    // keep the comment being typed across a refresh
    const typing = document.getElementById("comment-note");
    const draft = typing ? typing.value : "";
    const hadFocus = typing && document.activeElement === typing;
    clear(view);
    view.append(
      h("h1", {class: "ticket-h", "data-ticket-id": tk.id, "data-status": tk.status},
        h("span", {class: "tid"}, "#" + tk.id), " ", tk.title, " ", statusLabel(tk.status)),
      h("div", {class: "grid"}, actions(tk, load), clocks(tk), nextSteps(next), details(tk), timeline(tk)));
    const again = document.getElementById("comment-note");
    if (again && draft) again.value = draft;
    if (again && hadFocus) again.focus();
  }
  await load();
  startTicking();
  onTickets((ids) => {
    if ((!ids || ids.has(id)) && !document.querySelector("dialog[open]")) load();
  });
  document.body.dataset.ready = "ticket";
}
