// stream.js - live ticket changes from GET /v1/stream (server-sent events). The browser's
// EventSource reconnects by itself; a page subscribes with onTickets(callback), called with
// the ids that changed, at most every DEBOUNCE_MS so that a burst of changes is one refresh;
// with null after a reconnection (changes may have been missed: refresh everything).
const DEBOUNCE_MS = 250;
let source = null;
let started = false;
const listeners = [];
let pending = new Set();
let timer = null;

function flush() {
  timer = null;
  const ids = pending;
  pending = new Set();
  for (const cb of listeners) cb(ids);
}

function connect(onState) {
  const es = new EventSource("/v1/stream");
  source = es;
  es.addEventListener("ticket", (ev) => {
    try {
      const change = JSON.parse(ev.data);
      pending.add(change.id);
    } catch (e) {
      return;
    }
    if (!timer) timer = setTimeout(flush, DEBOUNCE_MS);
  });
  // too many changes at once to list: read everything again
  es.addEventListener("reset", () => {
    for (const cb of listeners) cb(null);
  });
  let opened = false;
  es.addEventListener("open", () => {
    onState(true);
    if (opened) for (const cb of listeners) cb(null);
    opened = true;
  });
  es.addEventListener("error", () => onState(es.readyState === EventSource.OPEN));
}

/** Call cb(Set of ticket ids, or null: maybe all) after changes; onState(live) when the stream opens or drops. */
export function onTickets(cb, onState = () => {}) {
  listeners.push(cb);
  if (started) return;
  started = true;
  // Opened once the page has loaded: a stream opened before keeps the page "loading" in
  // the browser (and anything that waits for the load, such as WebDriver's navigation).
  if (document.readyState === "complete") connect(onState);
  else window.addEventListener("load", () => connect(onState), {once: true});
  // Closed when the page is left: a browser opens at most 6 connections to one host, and
  // the pages it keeps for "back" would otherwise hold theirs open until the next page
  // waits for one. Reopened (and the page refreshed) when such a page is shown again.
  window.addEventListener("pagehide", () => {
    if (source) source.close();
    source = null;
  });
  window.addEventListener("pageshow", (ev) => {
    if (!ev.persisted || source) return;
    connect(onState);
    for (const listener of listeners) listener(null);
  });
}
