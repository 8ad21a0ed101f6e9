// plans.js - maintenance plans (/ui/plans): what recurs, for whom, and when next.
import {describe, get, query} from "/ui/api.js";
import {t} from "/ui/i18n.js";
import {h, notice, timeEl} from "/ui/util.js";

export async function render(main) {
  main.append(h("h1", {}, t("plans.title")));
  let page;
  try {
    page = await get("/v1/plans" + query({limit: 200}));
  } catch (e) {
    notice(describe(e), "error");
    return;
  }
  if (!page.plans.length) {
    main.append(h("p", {class: "muted"}, t("plans.empty")));
  } else {
    main.append(h("div", {class: "table-wrap"}, h("table", {},
      h("thead", {}, h("tr", {}, ["col.id", "col.name", "col.customer", "col.device", "col.team", "col.rrule", "col.next", "col.until"]
        .map((c) => h("th", {scope: "col"}, t(c))))),
      h("tbody", {}, page.plans.map((p) => h("tr", {"data-plan": p.id},
        h("td", {}, String(p.id)), h("td", {}, p.name),
        h("td", {}, [p.customer.name, p.customer.address].filter(Boolean).join(" · ") || t("none")),
        h("td", {}, [p.device.model, p.device.serial].filter(Boolean).join(" ") || t("none")),
        h("td", {}, p.team || t("none")), h("td", {}, h("code", {}, p.rrule)),
        h("td", {}, timeEl(p.next_at)), h("td", {}, timeEl(p.until))))))));
  }
  document.body.dataset.ready = "plans";
}
