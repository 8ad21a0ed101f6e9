// reports.js - the SLA report (/ui/reports): compliance by group as bars and by month as a
// line (inline SVG, no library), the rows as a table, and the CSV download of the same query.
import {describe, get, query} from "/ui/api.js";
import {lang, t} from "/ui/i18n.js";
import {clear, clockName, h, notice, svg} from "/ui/util.js";

const BYS = ["policy", "team", "region", "assignee"];
const COLOURS = ["#1f5fa8", "#b35900", "#2e7d32", "#7b1fa2", "#00838f", "#ad1457"];

function isoDate(d) {
  return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
}

function pct(x) {
  return x === null || x === undefined ? t("none") : (x * 100).toFixed(1) + "%";
}

/** Horizontal bars: one per row (group and clock), its length the compliance. */
function bars(rows, by) {
  const rowH = 26, labelW = 200, barW = 360, width = labelW + barW + 70;
  const shown = rows.filter((r) => r.compliance !== null && r.compliance !== undefined);
  const height = Math.max(shown.length, 1) * rowH + 10;
  const clocks = [...new Set(rows.map((r) => r.clock))];
  const chart = svg("svg", {viewBox: `0 0 ${width} ${height}`, class: "chart bars", role: "img",
    "aria-label": t("reports.bars", t("by." + by)), "data-chart": "bars"},
  svg("title", {}, t("reports.bars", t("by." + by))),
  svg("line", {x1: labelW, y1: 0, x2: labelW, y2: height, stroke: "#555"}),
  shown.length ? null : svg("text", {x: labelW + 8, y: 20, class: "chart-axis"}, t("reports.nodata")),
  shown.map((r, i) => {
    const y = 5 + i * rowH;
    const w = Math.max(1, Math.round(r.compliance * barW));
    return svg("g", {"data-group": r.group},
      svg("text", {x: labelW - 6, y: y + 16, "text-anchor": "end", class: "chart-label"}, `${r.group} · ${clockName(r.clock)}`),
      svg("rect", {x: labelW, y: y + 3, width: w, height: rowH - 8, fill: COLOURS[clocks.indexOf(r.clock) % COLOURS.length]}),
      svg("text", {x: labelW + w + 6, y: y + 16, class: "chart-value"}, pct(r.compliance)));
  }));
  return chart;
}

/** A line per clock over the months (x) of compliance (y, 0-100 %). */
function line(rows) {
  const months = [...new Set(rows.map((r) => r.group))].sort();
  const clocks = [...new Set(rows.map((r) => r.clock))];
  const W = 640, H = 260, L = 48, R = 16, T = 16, B = 40;
  const x = (i) => L + (months.length <= 1 ? (W - L - R) / 2 : i * (W - L - R) / (months.length - 1));
  const y = (v) => T + (1 - v) * (H - T - B);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((v) => svg("g", {},
    svg("line", {x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#ccc"}),
    svg("text", {x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "chart-axis"}, Math.round(v * 100) + "%")));
  const xlabels = months.map((m, i) => svg("text", {x: x(i), y: H - B + 18, "text-anchor": "middle", class: "chart-axis"}, m));
  const series = clocks.map((c, ci) => {
    const pts = months.map((m, i) => {
      const r = rows.find((row) => row.group === m && row.clock === c);
      return r && r.compliance !== null ? [x(i), y(r.compliance)] : null;
    }).filter(Boolean);
    const colour = COLOURS[ci % COLOURS.length];
    return svg("g", {"data-clock": c},
      svg("polyline", {points: pts.map((p) => p.join(",")).join(" "), fill: "none", stroke: colour, "stroke-width": 2.5}),
      pts.map((p) => svg("circle", {cx: p[0], cy: p[1], r: 3.5, fill: colour})));
  });
  const legend = clocks.map((c, ci) => svg("g", {},
    svg("rect", {x: L + ci * 130, y: H - 14, width: 12, height: 12, fill: COLOURS[ci % COLOURS.length]}),
    svg("text", {x: L + ci * 130 + 16, y: H - 4, class: "chart-axis"}, clockName(c))));
  return svg("svg", {viewBox: `0 0 ${W} ${H}`, class: "chart line", role: "img", "aria-label": t("reports.line"), "data-chart": "line"},
    svg("title", {}, t("reports.line")), grid, xlabels, series, legend,
    rows.some((r) => r.compliance !== null) ? null : svg("text", {x: L + 8, y: T + 20, class: "chart-axis"}, t("reports.nodata")));
}

function table(rows) {
  return h("div", {class: "table-wrap"}, h("table", {},
    h("thead", {}, h("tr", {}, ["col.group", "col.clock", "col.total", "col.met", "col.missed", "col.open", "col.compliance"]
      .map((c, i) => h("th", {scope: "col", class: i >= 2 ? "num" : null}, t(c))))),
    h("tbody", {}, rows.map((r) => h("tr", {},
      h("td", {}, r.group), h("td", {}, clockName(r.clock)), h("td", {class: "num"}, String(r.total)),
      h("td", {class: "num"}, String(r.met)), h("td", {class: "num"}, String(r.missed)),
      h("td", {class: "num"}, String(r.open)), h("td", {class: "num"}, pct(r.compliance)))))));
}

export async function render(main) {
  const p = new URLSearchParams(location.search);
  const now = new Date();
  const to = p.get("to") || isoDate(new Date(now.getTime() + 86400000));
  const from = p.get("from") || isoDate(new Date(now.getFullYear(), now.getMonth() - 5, 1));
  const by = BYS.includes(p.get("by")) ? p.get("by") : "policy";
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const params = {from, to, by, tz};
  const form = h("form", {class: "filters", method: "get", action: "/ui/reports"},
    h("div", {class: "field"}, h("label", {for: "r-from"}, t("reports.from")), h("input", {id: "r-from", name: "from", type: "date", value: from})),
    h("div", {class: "field"}, h("label", {for: "r-to"}, t("reports.to")), h("input", {id: "r-to", name: "to", type: "date", value: to})),
    h("div", {class: "field"}, h("label", {for: "r-by"}, t("reports.by")),
      h("select", {id: "r-by", name: "by"}, BYS.map((b) => h("option", {value: b, selected: b === by}, t("by." + b))))),
    h("div", {class: "buttons"}, h("button", {type: "submit", class: "primary"}, t("reports.show")),
      h("a", {class: "button", id: "csv", href: "/v1/reports/sla" + query({...params, format: "csv"}), download: `sla-${by}-${from}-${to}.csv`}, t("reports.csv"))));
  const body = h("div", {});
  main.append(h("h1", {}, t("reports.title")), form, body);
  let byGroup, byMonth;
  try {
    [byGroup, byMonth] = await Promise.all([get("/v1/reports/sla" + query(params)), get("/v1/reports/sla" + query({...params, by: "month"}))]);
  } catch (e) {
    notice(describe(e), "error");
    return;
  }
  clear(body);
  if (!byGroup.rows.length) body.append(h("p", {class: "muted"}, t("reports.empty")));
  const fu = byGroup.followups;
  body.append(
    h("section", {class: "card"}, h("h2", {}, t("reports.bars", t("by." + by))), bars(byGroup.rows, by)),
    h("section", {class: "card"}, h("h2", {}, t("reports.line")), line(byMonth.rows)),
    fu ? h("p", {}, t("reports.followups", fu.done, fu.total, fu.overdue)) : null,
    h("section", {class: "card"}, table(byGroup.rows)));
  document.documentElement.lang = lang();
  document.body.dataset.ready = "reports";
}
