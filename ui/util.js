// util.js - DOM building (text only: never HTML from data), times, durations and the live
// countdown shared by the pages.
import {lang, t, tOr} from "/ui/i18n.js";

/** h("a", {href: "/x", class: "c"}, "text", child...): an element; strings become text. */
export function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, "");
    else e.setAttribute(k, String(v));
  }
  append(e, children);
  return e;
}

export function append(e, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function clear(e) {
  while (e.firstChild) e.firstChild.remove();
  return e;
}

const SVG_NS = "http://www.w3.org/2000/svg";
export function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) e.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** A local date and time, "2026-03-01 08:00:00" (unambiguous in both languages), or a dash. */
export function when(iso) {
  if (!iso) return t("none");
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function timeEl(iso) {
  return h("time", {datetime: iso || null}, when(iso));
}

/** "1h 12m", "3d 4h", "45s": the two largest units. */
export function duration(seconds) {
  let s = Math.max(0, Math.round(Math.abs(seconds)));
  const parts = [];
  const units = [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]];
  for (const [u, n] of units) {
    if (s >= n || (u === "s" && parts.length === 0)) {
      parts.push(t("dur." + u, Math.floor(s / n)));
      s %= n;
    }
    if (parts.length === 2) break;
  }
  return parts.join(lang() === "en" ? " " : "");
}

export function clockName(name) {
  return tOr("clockname." + name, name);
}

/** The risk of a running clock at now: "breached", "at_risk" (< 25 % of its target left) or "". */
export function risk(dueIso, targetS, now = Date.now()) {
  const left = (Date.parse(dueIso) - now) / 1000;
  if (left <= 0) return "breached";
  if (targetS > 0 && left < targetS * 0.25) return "at_risk";
  return "";
}

/** One countdown element for a running clock: data-due holds the instant, data-target the
 * target in seconds; tick() rewrites its text, risk class and label every second. */
export function countdown(clock, named = true) {
  const e = h("span", {class: "countdown", "data-due": clock.due_at, "data-target": clock.target_s, "data-clock": named ? clock.name : null});
  paint(e, Date.now());
  return e;
}

function paint(e, now) {
  const due = Date.parse(e.dataset.due);
  const target = Number(e.dataset.target) || 0;
  const left = (due - now) / 1000;
  const r = risk(e.dataset.due, target, now);
  e.classList.toggle("breached", r === "breached");
  e.classList.toggle("at-risk", r === "at_risk");
  const label = r === "breached" ? t("clock.breached") : r === "at_risk" ? t("clock.at_risk") : "";
  const text = left > 0 ? t("clock.in", duration(left)) : t("clock.overdue", duration(-left));
  const name = e.dataset.clock ? clockName(e.dataset.clock) + " " : "";
  const content = (label ? label + " · " : "") + name + text;
  e.dataset.left = String(Math.round(left)); // seconds left, negative when overdue (tests read it)
  e.dataset.risk = r;
  if (e.textContent !== content) e.textContent = content;
  e.title = t("clock.due", when(e.dataset.due));
}

let ticking = false;
/** Repaint every countdown of the page once a second (one timer for all). */
export function startTicking() {
  if (ticking) return;
  ticking = true;
  const tick = () => {
    const now = Date.now();
    for (const e of document.querySelectorAll(".countdown[data-due]")) paint(e, now);
    setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
  };
  tick();
}

export function statusLabel(s) {
  return h("span", {class: "status status-" + s}, t("status." + s));
}

export function severityLabel(n) {
  return h("span", {class: "sev sev-" + n}, t("severity." + n));
}

/** A notice in the page's message area (role=status so screen readers read it). */
export function notice(text, kind = "info") {
  const box = document.getElementById("notice");
  if (!box) return;
  clear(box);
  if (!text) return;
  box.append(h("p", {class: "notice notice-" + kind}, text));
}

/** A notification event's name for a person (the raw name as its title). */
export function eventName(name) {
  return h("span", {class: "nevent", title: name}, tOr("nevent." + name, name));
}
