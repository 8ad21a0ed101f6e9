// api.js - requests to slad's API from the console: JSON in and out, the session's CSRF token
// on every state-changing request, errors as ApiError with slad's code and message.
import {t} from "/ui/i18n.js";

let session = null;

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export async function api(method, path, body) {
  const headers = {Accept: "application/json"};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && session && session.csrf) headers["X-CSRF-Token"] = session.csrf;
  let r;
  try {
    r = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin", cache: "no-store"});
  } catch (e) {
    throw new ApiError(0, "network", t("error.network"));
  }
  if (r.status === 204) return null;
  let data = null;
  const text = await r.text();
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (!r.ok) {
    const err = data && data.error ? data.error : {code: "http_" + r.status, message: text.slice(0, 200) || r.statusText};
    throw new ApiError(r.status, err.code, err.message, Number(r.headers.get("Retry-After")) || 0);
  }
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body === undefined ? {} : body);

/** The signed-in session ({name, access, csrf, expires_at}) or null when not signed in. */
export async function loadSession() {
  try {
    session = await get("/v1/session");
  } catch (e) {
    if (e.status === 401) session = null;
    else throw e;
  }
  return session;
}

export function currentSession() {
  return session;
}

export async function signIn(user, password) {
  session = await post("/v1/session", {user, password});
  return session;
}

export async function signOut() {
  await api("DELETE", "/v1/session");
  session = null;
}

/** May the signed-in contact act on tickets (operator or admin)? */
export function canAct() {
  return !!session && (session.access === "operator" || session.access === "admin");
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? "?" + s : "";
}

/** A message for a person from an ApiError. */
export function describe(e) {
  if (e.code === "csrf_mismatch") return t("error.csrf");
  if (e.code === "forbidden") return t("error.forbidden") + (e.message ? " " + e.message : "");
  if (e.code === "network") return e.message;
  return t("error.generic", e.message || e.code);
}
