// The History page: a metric against a day or a week earlier, capacity forecasts, cost and
// optimization advice, all for the chosen time range (the store's roll-ups serve long ranges).
"use strict";
(function () {
  const API = "/dashboard/api/history/";
  const state = { range: "24h", metrics: [], chart: null, seq: 0 };
  const $ = (id) => document.getElementById(id);

  function option(select, value, text, selected) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    if (selected) o.selected = true;
    select.appendChild(o);
  }

  function metricKey(m) {
    const dims = Object.keys(m.dimensions).sort().map((k) => k + "=" + m.dimensions[k]).join(",");
    return m.namespace + "|" + m.name + "|" + dims;
  }

  function table(el, head, rows, empty) {
    el.textContent = "";
    const tr = Heron.el("tr");
    for (const h of head) tr.appendChild(Heron.el("th", null, h));
    el.appendChild(tr);
    if (!rows.length) {
      const r = Heron.el("tr");
      const td = Heron.el("td", "muted", empty || "nothing in this range");
      td.colSpan = head.length;
      r.appendChild(td);
      el.appendChild(r);
      return;
    }
    for (const row of rows) {
      const r = Heron.el("tr", row.cls || null);
      for (const cell of row.cells) {
        const numeric = typeof cell === "number" || (cell && cell.num);
        const text = cell && cell.num ? cell.text : cell;
        r.appendChild(Heron.el("td", numeric ? "num" : null, typeof text === "number" ? Heron.fmt(text) : (text ?? "–")));
      }
      el.appendChild(r);
    }
  }

  const usd = (v) => {
    if (v === null || v === undefined) return "–";
    const a = Math.abs(v);
    return (v < 0 ? "-$" : "$") + (a === 0 ? "0.00" : a >= 1 ? a.toFixed(2) : a.toPrecision(3));
  };
  const KINDS = { function: "functions", api: "APIs", table: "tables" };
  const num = (text) => ({ num: true, text });
  const when = (ms) => ms === null || ms === undefined ? "–" : Heron.date(ms) + " " + new Date(ms).getFullYear();
  const dur = (s) => s === null || s === undefined ? "–" : s < 120 ? s.toFixed(0) + " s" : s < 7200 ? (s / 60).toFixed(1) + " min" : (s / 3600).toFixed(1) + " h";

  function buildRanges(ranges) {
    const root = $("ranges");
    root.textContent = "";
    for (const r of ranges) {
      const b = Heron.el("button", null, r);
      b.type = "button";
      b.dataset.range = r;
      b.setAttribute("aria-pressed", String(r === state.range));
      b.addEventListener("click", () => {
        state.range = r;
        for (const x of root.children) x.setAttribute("aria-pressed", String(x.dataset.range === r));
        refresh();
      });
      root.appendChild(b);
    }
  }

  async function loadTrend() {
    const select = $("trend-metric");
    const m = state.metrics[select.selectedIndex];
    if (!m) { $("trend-headline").textContent = "No metrics stored yet."; return; }
    const dims = Object.keys(m.dimensions).sort().map((k) => k + "=" + m.dimensions[k]).join(",");
    const stat = $("trend-stat").value;
    const compare = $("trend-compare").value;
    const q = new URLSearchParams({ namespace: m.namespace, name: m.name, dimensions: dims, stat, range: state.range, compare });
    const seq = ++state.seq;
    const data = await Heron.api(API + "trend?" + q);
    if (seq !== state.seq) return;
    const label = compare === "week" ? "a week earlier" : "a day earlier";
    const spec = { id: "trend", title: m.namespace + " " + m.name + " " + stat, unit: "", series: ["this period", label], thresholds: [] };
    const holder = $("trend-chart");
    holder.textContent = "";
    state.chart = new HeronCharts.LineChart(holder, spec);
    state.chart.setData({ start: data.start, period: data.period, values: [data.current, data.earlier] });
    const head = $("trend-headline");
    head.textContent = "";
    const change = data.totalChange;
    head.append("Over the range: " + Heron.fmt(data.currentTotal) + " vs " + Heron.fmt(data.earlierTotal) + " " + label + " ");
    const badge = Heron.el("span", change > 0 ? "up" : change < 0 ? "down" : null,
      change === null ? "(no comparison)" : (change > 0 ? "+" : "") + change.toFixed(1) + " %");
    badge.id = "trend-change";
    head.appendChild(badge);
  }

  async function loadCapacity() {
    const q = new URLSearchParams({ lookback: $("capacity-lookback").value, horizon: $("capacity-horizon").value });
    const data = await Heron.api(API + "capacity?" + q);
    $("capacity-method").textContent = data.method;
    table($("capacity-table"),
      ["Metric", "Peak now", "Limit", "Trend / day", "At horizon (95 % interval)", "Expected crossing", "Earliest – latest", "Outlook"],
      data.forecasts.map((f) => ({
        cls: "status-" + f.status,
        cells: [f.title, num(Heron.fmt(f.current)), f.limitLabel,
          num(f.slopePerDay === null ? "–" : (f.slopePerDay >= 0 ? "+" : "") + Heron.fmt(f.slopePerDay)),
          num(f.predictedAtHorizon === null ? "–" : Heron.fmt(f.predictedAtHorizon) + " (" + Heron.fmt(f.intervalAtHorizon[0]) + " – " + Heron.fmt(f.intervalAtHorizon[1]) + ")"),
          when(f.crossing), when(f.earliest) + " – " + when(f.latest), f.message],
      })));
  }

  async function loadCost() {
    const data = await Heron.api(API + "cost?range=" + encodeURIComponent(state.range));
    $("cost-method").textContent = data.method + "\nPrices: " + JSON.stringify(data.prices, null, 1);
    $("cost-note").textContent = "over the last " + state.range + ", projected to a 730-hour month";
    const cards = $("cost-cards");
    cards.textContent = "";
    const card = (id, label, value) => {
      const c = Heron.el("div", "h-card");
      c.id = id;
      c.append(Heron.el("div", "value", value), Heron.el("div", "label", label));
      cards.appendChild(c);
    };
    card("cost-total", "total in range", usd(data.total));
    card("cost-monthly", "monthly projection", usd(data.monthly));
    card("cost-per-message", "per message (" + Heron.fmt(data.messages) + " sent)", usd(data.perMessage));
    for (const [kind, v] of Object.entries(data.byKind)) card("cost-kind-" + kind, (KINDS[kind] || kind) + " per month", usd(v.monthly));
    table($("cost-table"), ["Resource", "Kind", "Usage", "Cost in range", "Per month"],
      data.lines.map((l) => ({
        cells: [l.name, l.kind, l.parts.map((p) => Heron.fmt(p.quantity) + " " + p.what).join(", "), num(usd(l.cost)), num(usd(l.monthly))],
      })));
  }

  async function loadAdvice() {
    const data = await Heron.api(API + "advice?range=" + encodeURIComponent(state.range));
    const lat = (rows) => rows.map((r) => ({ cells: [r.name, num(Heron.fmt(r.p99, "ms")), num(Heron.fmt(r.average, "ms")), r.count] }));
    table($("advice-functions"), ["Function", "p99", "Average", "Invocations"], lat(data.slowestFunctions));
    table($("advice-routes"), ["Route", "p99", "Average", "Requests"], lat(data.slowestRoutes),
      data.routesAvailable ? undefined : "no per-route metrics (detailed metrics are off)");
    table($("advice-cold"), ["Function", "Cold starts", "Rate", "Avg INIT", "Why"],
      data.coldStarts.map((c) => ({ cls: c.hotSpot ? "hot" : null,
        cells: [c.name, c.coldStarts, num(Heron.fmt(c.rate, "%")), num(Heron.fmt(c.averageInitMs, "ms")), c.reasons.join("; ") || "ok"] })));
    table($("advice-memory"), ["Function", "Allocated", "Peak used", "Advice", "Cost / month"],
      data.memory.map((m) => ({ cls: m.action === "increase" ? "hot" : null,
        cells: [m.name, num(m.memoryMb + " MB"), num(Heron.fmt(m.peakMb) + " MB (" + m.peakPct.toFixed(0) + " %)"),
          m.action === "keep" ? "keep " + m.memoryMb + " MB" : m.action + " to " + m.recommendedMb + " MB",
          num((m.monthlyCostDelta > 0 ? "+" : "") + usd(m.monthlyCostDelta))] })));
    table($("advice-alarms"), ["Alarm", "State changes", "To ALARM", "Flapping", "Incidents", "Mean time to ack", "Mean time to resolve"],
      data.alarms.map((a) => ({ cls: a.flapping ? "hot" : null,
        cells: [a.alarm, a.changes, a.toAlarm, a.flapping ? "yes" : "no", a.incidents, num(dur(a.meanTimeToAckS)), num(dur(a.meanTimeToResolveS))] })),
      data.alarmsAvailable ? "no alarm changed state in this range" : "alarm history is not available");
  }

  async function guarded(fn) {
    try { await fn(); } catch (e) { if (e.message !== "not signed in") Heron.notice(e.message); }
  }

  function refresh() {
    Heron.notice("");
    return Promise.all([guarded(loadTrend), guarded(loadCost), guarded(loadAdvice)]);
  }

  async function start() {
    let info;
    try { info = await Heron.api(API + "metrics"); } catch (e) { Heron.notice(e.message); return; }
    state.metrics = info.metrics;
    buildRanges(info.ranges);
    const select = $("trend-metric");
    const preferred = state.metrics.findIndex((m) => m.namespace === "AWS/ApiGateway" && m.name === "Count" && m.dimensions.ApiId);
    state.metrics.forEach((m, i) => {
      const dims = Object.entries(m.dimensions).map(([k, v]) => k + "=" + v).join(", ");
      option(select, metricKey(m), m.namespace + " · " + m.name + (dims ? " · " + dims : ""), i === preferred);
    });
    for (const s of info.statistics) option($("trend-stat"), s, s, s === "Sum");
    for (const c of info.comparisons) option($("trend-compare"), c, "a " + c + " earlier", c === "day");
    for (const l of info.lookbacks) option($("capacity-lookback"), l, "last " + l, l === "7d");
    for (const h of info.horizons) option($("capacity-horizon"), String(h), h + " days", h === 90);
    for (const id of ["trend-metric", "trend-stat", "trend-compare"]) $(id).addEventListener("change", () => guarded(loadTrend));
    for (const id of ["capacity-lookback", "capacity-horizon"]) $(id).addEventListener("change", () => guarded(loadCapacity));
    await Promise.all([refresh(), guarded(loadCapacity)]);
    document.body.dataset.loaded = "1";
  }

  document.addEventListener("DOMContentLoaded", start);
})();
