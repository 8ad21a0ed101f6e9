// stream.js - live ticket changes from GET /v1/stream (server-sent events). The browser's
// EventSource reconnects by itself; a page subscribes with onTickets(callback), called with
// the ids that changed, at most every DEBOUNCE_MS so that a burst of changes is one refresh;
// with null after a reconnection (changes may have been missed: refresh everything).
const DEBOUNCE_MS = 250;
let source = null;
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
  source = new EventSource("/v1/stream");
  source.addEventListener("ticket", (ev) => {
    try {
      const change = JSON.parse(ev.data);
      pending.add(change.id);
    } catch (e) {
      return;
    }
    if (!timer) timer = setTimeout(flush, DEBOUNCE_MS);
  });
  let opened = false;
  source.addEventListener("open", () => {
    onState(true);
    if (opened) for (const cb of listeners) cb(null);
    opened = true;
  });
  source.addEventListener("error", () => onState(source.readyState === EventSource.OPEN));
}

/** Call cb(Set of ticket ids, or null: maybe all) after changes; onState(live) when the stream opens or drops. */
export function onTickets(cb, onState = () => {}) {
  listeners.push(cb);
  if (!source) connect(onState);
}
