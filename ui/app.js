// app.js - the console's shell: header (navigation, who is signed in, language switch), the
// sign-in form when nobody is, and the page the path names (/ui/, /ui/tickets/ID, ...).
import {describe, loadSession, signIn, signOut, currentSession} from "/ui/api.js";
import {lang, otherLang, setLang, t} from "/ui/i18n.js";
import {clear, h} from "/ui/util.js";

const PAGES = [
  [/^\/ui\/?$|^\/ui\/index\.html$/, "board", () => import("/ui/board.js")],
  [/^\/ui\/tickets\/(\d+)\/?$/, "board", () => import("/ui/ticket.js")],
  [/^\/ui\/followups\/?$/, "followups", () => import("/ui/followups.js")],
  [/^\/ui\/plans\/?$/, "plans", () => import("/ui/plans.js")],
  [/^\/ui\/notifications\/?$/, "notifications", () => import("/ui/notifications.js")],
  [/^\/ui\/reports\/?$/, "reports", () => import("/ui/reports.js")],
];

const NAV = [["board", "/ui/"], ["followups", "/ui/followups"], ["plans", "/ui/plans"],
  ["notifications", "/ui/notifications"], ["reports", "/ui/reports"]];

function header(active, session) {
  const nav = h("nav", {"aria-label": t("app.name")},
    h("ul", {}, NAV.map(([name, href]) =>
      h("li", {}, h("a", {href, "aria-current": name === active ? "page" : null}, t("nav." + name))))));
  const switcher = h("button", {type: "button", class: "lang", id: "lang-switch", lang: otherLang(),
    "aria-label": t("lang.switch.label"), onclick: () => { setLang(otherLang()); location.reload(); }}, t("lang.switch"));
  const who = session ? h("div", {class: "who"},
    h("span", {id: "who", "data-access": session.access}, t("session.as", session.name, t("access." + session.access))),
    h("button", {type: "button", id: "sign-out", onclick: async () => {
      try { await signOut(); } catch (e) { /* the session is gone either way */ }
      location.reload();
    }}, t("session.signout"))) : null;
  return h("header", {class: "top"},
    h("a", {class: "brand", href: "/ui/"}, "slad"),
    session ? nav : null,
    h("div", {class: "tools"}, who, switcher));
}

function signInForm(main) {
  const err = h("p", {class: "notice notice-error", role: "alert", hidden: true});
  const form = h("form", {class: "signin", method: "post", action: "#"},
    h("h1", {}, t("signin.title")),
    h("label", {for: "signin-user"}, t("signin.user")),
    h("input", {id: "signin-user", name: "user", autocomplete: "username", required: true, autofocus: true}),
    h("label", {for: "signin-password"}, t("signin.password")),
    h("input", {id: "signin-password", name: "password", type: "password", autocomplete: "current-password", required: true}),
    err,
    h("button", {type: "submit", class: "primary"}, t("signin.submit")),
    h("p", {class: "hint"}, t("signin.hint")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    try {
      await signIn(form.user.value, form.password.value);
      location.reload();
    } catch (e) {
      err.textContent = e.status === 401 ? t("signin.failed") : e.status === 429 ? t("signin.throttled", e.retryAfter || 60) : describe(e);
      err.hidden = false;
      form.password.select();
    }
  });
  main.append(form);
}

async function start() {
  document.documentElement.lang = lang();
  document.title = t("app.name");
  const main = h("main", {id: "main", tabindex: "-1"});
  const body = document.body;
  clear(body);
  const path = location.pathname;
  const page = PAGES.find(([re]) => re.test(path));
  // the page's module loads while the session is asked for (one round trip, not two)
  const loading = page ? page[2]() : null;
  let session = null;
  try {
    session = await loadSession();
  } catch (e) {
    body.append(header("", null), main);
    main.append(h("p", {class: "notice notice-error", role: "alert"}, describe(e)));
    return;
  }
  body.append(h("a", {class: "skip", href: "#main"}, t("nav.skip")), header(page ? page[1] : "", session), main);
  main.append(h("div", {id: "notice", role: "status", "aria-live": "polite"}));
  if (!session) {
    signInForm(main);
    return;
  }
  if (!page) {
    main.append(h("p", {class: "notice notice-error"}, t("page.unknown")), h("a", {href: "/ui/"}, t("ticket.back")));
    return;
  }
  const module = await loading;
  const match = path.match(page[0]);
  await module.render(main, currentSession(), match);
}

start();
