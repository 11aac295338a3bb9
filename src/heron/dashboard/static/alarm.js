// The alarm page: state, condition, the watched metric with its threshold and state changes,
// the alarm's history and its definition. Refreshed every few seconds while visible.
"use strict";
(function () {
  const RANGES = ["15m", "1h", "6h", "24h", "7d", "30d", "455d"];
  const REFRESH_MS = 5000;
  const name = document.querySelector('meta[name="alarm-name"]').content;
  const state = { range: "1h", chart: null, timer: null, shown: "" };
  const $ = (id) => document.getElementById(id);

  function buildRanges() {
    const root = $("ranges");
    for (const r of RANGES) {
      const b = Heron.el("button", null, r);
      b.type = "button";
      b.dataset.range = r;
      b.addEventListener("click", () => { state.range = r; history.replaceState(null, "", "#range=" + r); load(); });
      root.appendChild(b);
    }
  }

  function markRange() {
    for (const b of document.querySelectorAll("#ranges button")) {
      b.setAttribute("aria-pressed", String(b.dataset.range === state.range));
    }
  }

  function showState(d) {
    const badge = $("alarm-state");
    badge.className = "state state-" + d.state;
    badge.textContent = d.state;
    $("alarm-since").textContent = d.since ? "since " + Heron.date(d.since) + " " + Heron.clock(d.since, true) : "";
    $("alarm-condition").textContent = d.condition;
    $("alarm-reason").textContent = d.reason;
    const inc = $("alarm-incident");
    inc.textContent = "";
    if (d.incident) {
      const p = Heron.el("p", "incident-note");
      p.append(Heron.el("span", "sev sev-" + d.incident.severity, d.incident.severity),
        document.createTextNode(" incident #" + d.incident.id + " " + d.incident.status + " since " +
          Heron.clock(d.incident.since, true) + " · "));
      const a = Heron.el("a", null, "manage on the overview");
      a.href = "/dashboard#alerts-section";
      const ex = Heron.el("a", null, "explain its notifications");
      ex.href = "/dashboard/notify#what=" + encodeURIComponent(name);
      p.append(a, document.createTextNode(" · "), ex);
      inc.appendChild(p);
    }
  }

  function showGraph(d) {
    const root = $("alarm-graph");
    if (!d.graph || d.graph.error) {
      root.textContent = "";
      state.chart = null;
      root.appendChild(Heron.el("p", "muted panel", d.graph ? d.graph.error : "A composite alarm reads other alarms; it has no metric to draw."));
      return;
    }
    const spec = { id: "alarm", title: d.condition, unit: "", series: d.graph.series, thresholds: d.thresholds };
    const key = JSON.stringify(spec);
    if (!state.chart || key !== state.shown) {
      root.textContent = "";
      state.chart = new HeronCharts.LineChart(root, spec);
      state.shown = key;
    }
    state.chart.setData({ start: d.graph.start, period: d.graph.period, values: d.graph.values });
    state.chart.setAnnotations(d.annotations);
  }

  function showHistory(rows) {
    const body = $("alarm-history").querySelector("tbody");
    body.textContent = "";
    for (const r of rows) {
      const tr = Heron.el("tr");
      tr.dataset.type = r.type;
      const change = Heron.el("td");
      if (r.state) {
        change.append(Heron.el("span", "state state-" + r.old, r.old), document.createTextNode(" \u2192 "),
          Heron.el("span", "state state-" + r.state, r.state));
      }
      tr.append(Heron.el("td", "since", Heron.date(r.t) + " " + Heron.clock(r.t, true)),
        Heron.el("td", null, r.type), change, Heron.el("td", "muted", r.reason || r.summary));
      body.appendChild(tr);
    }
    $("history-empty").classList.toggle("hidden", rows.length > 0);
  }

  function showDefinition(def) {
    const root = $("alarm-definition");
    root.textContent = "";
    for (const [k, v] of Object.entries(def)) {
      root.appendChild(Heron.el("dt", null, k));
      // Lists (metric queries, actions, dimensions) one compact item per line.
      const text = typeof v === "string" ? v
        : Array.isArray(v) ? (v.length ? v.map((x) => typeof x === "string" ? x : JSON.stringify(x)).join("\n") : "–")
        : JSON.stringify(v);
      root.appendChild(Heron.el("dd", typeof v === "string" ? null : "json", text));
    }
  }

  async function load() {
    markRange();
    clearTimeout(state.timer);
    try {
      const d = await Heron.api("/dashboard/api/alarms/" + encodeURIComponent(name) + "?range=" + state.range);
      showState(d);
      showGraph(d);
      showHistory(d.history);
      showDefinition(d.definition);
      Heron.notice("");
      document.body.dataset.ready = "1";
      document.body.dataset.range = state.range;
    } catch (e) {
      Heron.notice("Could not load the alarm: " + e.message);
    }
    if (!document.hidden) state.timer = setTimeout(load, REFRESH_MS);
  }

  document.addEventListener("visibilitychange", () => { if (!document.hidden) load(); });
  document.addEventListener("DOMContentLoaded", () => {
    const match = /range=([0-9a-z]+)/.exec(location.hash);
    if (match && RANGES.includes(match[1])) state.range = match[1];
    buildRanges();
    load();
  });
})();
