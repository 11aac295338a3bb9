// The metric explorer: one graph of every metric matching a selection (dimension values may be
// "*"), up to a thousand series, fetched as one binary frame (see heron/dashboard/explore.py).
"use strict";
(function () {
  const RANGES = ["15m", "1h", "6h", "24h", "7d", "30d", "455d"];
  const FIELDS = ["namespace", "name", "dimensions", "stat", "range"];
  let chart = null;
  let asked = 0;

  // GET the explorer frame: {header, values: [Float32Array per series]}; errors carry .field.
  async function fetchFrame(query) {
    const response = await fetch("/dashboard/api/explore?" + query, { credentials: "same-origin" });
    if (!response.ok) {
      let body = null;
      try { body = await response.json(); } catch (e) { body = null; }
      if (response.status === 401) {
        Heron.signIn(body && body.error === "SessionExpired");
        throw new Error("not signed in");
      }
      const err = new Error((body && body.message) || ("request failed: HTTP " + response.status));
      err.field = body && body.field;
      throw err;
    }
    const buf = await response.arrayBuffer();
    const length = new DataView(buf).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, length)));
    const offset = Math.ceil((4 + length) / 4) * 4;
    const all = new Float32Array(buf, offset, header.count * header.size);
    const values = [];
    for (let i = 0; i < header.count; i++) values.push(all.subarray(i * header.size, (i + 1) * header.size));
    return { header, values };
  }

  function fieldsFromHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    for (const f of FIELDS) {
      const v = params.get(f);
      if (v !== null) document.getElementById("explore-" + f).value = v;
    }
    return params.has("name");
  }

  async function graph() {
    const form = document.getElementById("explore-form");
    const fields = Object.fromEntries(new FormData(form).entries());
    const query = new URLSearchParams(fields).toString();
    history.replaceState(null, "", "#" + query);
    for (const input of form.querySelectorAll("input, select")) input.removeAttribute("aria-invalid");
    const status = document.getElementById("explore-status");
    const mine = ++asked;
    status.textContent = "loading…";
    const started = performance.now();
    let frame;
    try {
      frame = await fetchFrame(query);
    } catch (err) {
      if (mine !== asked) return;
      status.textContent = "";
      Heron.notice(err.message);
      const bad = err.field && form.querySelector('[name="' + err.field + '"]');
      if (bad) { bad.setAttribute("aria-invalid", "true"); bad.focus(); }
      document.body.dataset.explored = "error";
      return;
    }
    if (mine !== asked) return;
    Heron.notice("");
    const h = frame.header;
    const root = document.getElementById("explore-chart");
    root.textContent = "";
    chart = new HeronCharts.LineChart(root, {
      id: "explore",
      title: fields.namespace + " · " + fields.name + " (" + h.stat + ")",
      unit: "",
      series: h.labels,
      thresholds: [],
    });
    const fetched = performance.now() - started;
    chart.onDrawn = () => {
      if (mine !== asked) return;
      status.textContent = h.count.toLocaleString("en-US") + " of " + h.total.toLocaleString("en-US") +
        " series" + (h.truncated ? " (the first 1,000)" : "") + " · " + h.size.toLocaleString("en-US") +
        " points each · " + Math.round(fetched) + " ms to fetch, " + Math.round(performance.now() - started) + " ms to draw";
      document.body.dataset.explored = String(h.count);
    };
    chart.setData({ start: h.start, period: h.period, values: frame.values });
  }

  function start() {
    const range = document.getElementById("explore-range");
    for (const r of RANGES) {
      const o = Heron.el("option", null, r);
      o.value = r;
      range.appendChild(o);
    }
    range.value = "24h";
    const auto = fieldsFromHash();
    document.getElementById("explore-form").addEventListener("submit", (e) => {
      e.preventDefault();
      graph();
    });
    if (auto) graph();
    document.body.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", start);
})();
