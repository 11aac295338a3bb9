// The overview page: status tiles, alarms and graphs, kept live by one SSE stream.
"use strict";
(function () {
  const KIND_GROUPS = [["function", "Functions"], ["http", "APIs"], ["websocket", "APIs"], ["table", "Tables"]];
  const SECTIONS = { functions: "Lambda functions", http: "HTTP API", websocket: "WebSocket API", tables: "DynamoDB tables" };
  const LEVEL_TEXT = { ok: "ok", warn: "warning", alarm: "alarm", idle: "no traffic" };
  const state = { alarmsShown: "", layout: null, range: "1h", charts: {}, data: null, tiles: {}, source: null, refetch: null };

  function buildTiles(layout) {
    const root = document.getElementById("tiles");
    root.textContent = "";
    const groups = {};
    for (const [kind, title] of KIND_GROUPS) {
      if (!groups[title]) {
        const g = Heron.el("div", "tile-group");
        g.appendChild(Heron.el("h3", null, title));
        const grid = Heron.el("div", "tile-grid");
        g.appendChild(grid);
        root.appendChild(g);
        groups[title] = grid;
      }
      for (const t of layout.tiles.filter((x) => x.kind === kind)) {
        const tile = Heron.el("article", "tile level-idle");
        tile.dataset.tile = t.id;
        const head = Heron.el("div", "tile-head");
        head.append(Heron.el("span", "name", t.name), Heron.el("span", "badge", "…"));
        const numbers = Heron.el("div", "numbers");
        const reasons = Heron.el("div", "reasons");
        tile.append(head, numbers, reasons);
        groups[title].appendChild(tile);
        state.tiles[t.id] = { tile, badge: head.lastChild, numbers, reasons, shown: "" };
      }
    }
  }

  function updateTiles(tiles) {
    for (const t of tiles) {
      const view = state.tiles[t.id];
      if (!view) continue;
      view.tile.className = "tile level-" + t.level;
      view.badge.textContent = LEVEL_TEXT[t.level] || t.level;
      const key = JSON.stringify(t.numbers);
      if (key !== view.shown) {
        view.shown = key;
        view.numbers.textContent = "";
        for (const n of t.numbers) {
          const cell = Heron.el("div");
          const value = Heron.el("div", "value", Heron.fmt(n.value === null ? 0 : n.value));
          if (n.value === null) value.textContent = "–";
          if (n.unit && n.value !== null) value.appendChild(Heron.el("small", null, n.unit));
          value.dataset.key = n.key;
          cell.append(value, Heron.el("div", "label", n.label));
          view.numbers.appendChild(cell);
        }
      }
      view.reasons.textContent = t.reasons.join(" · ");
    }
  }

  function updateAlarms(panel) {
    const root = document.getElementById("alarms");
    if (panel === undefined) {
      root.textContent = "";
      root.appendChild(Heron.el("p", "muted", "Alarms are not configured on this instance; tiles are coloured from the seed's thresholds."));
      return;
    }
    const key = JSON.stringify(panel);
    if (key === state.alarmsShown) return;
    state.alarmsShown = key;
    root.textContent = "";
    const c = panel.counts;
    const summary = Heron.el("div", "alarm-summary");
    summary.append(
      Heron.el("span", "state state-ALARM", c.ALARM + " in alarm"),
      Heron.el("span", "state state-INSUFFICIENT_DATA", c.INSUFFICIENT_DATA + " insufficient data"),
      Heron.el("span", "state state-OK", c.OK + " OK"));
    root.appendChild(summary);
    if (!panel.rows.length) {
      root.appendChild(Heron.el("p", "muted", "No alarms defined."));
      return;
    }
    const wrap = Heron.el("div", "alarm-scroll");
    const table = Heron.el("table", "alarm-table");
    const head = Heron.el("tr");
    for (const h of ["Alarm", "State", "Since", "Reason"]) head.appendChild(Heron.el("th", null, h));
    table.appendChild(head);
    for (const r of panel.rows) {
      const tr = Heron.el("tr");
      tr.dataset.alarm = r.name;
      const st = Heron.el("td");
      st.appendChild(Heron.el("span", "state state-" + r.state, r.state));
      tr.append(Heron.el("td", "alarm-name", r.name), st,
        Heron.el("td", "since", r.since ? Heron.date(r.since) + " " + Heron.clock(r.since, true) : "–"),
        Heron.el("td", "muted", r.reason || ""));
      table.appendChild(tr);
    }
    wrap.appendChild(table);
    root.appendChild(wrap);
  }

  function buildCharts(layout) {
    const root = document.getElementById("charts");
    root.textContent = "";
    const grids = {};
    for (const spec of layout.charts) {
      if (!grids[spec.section]) {
        const sec = Heron.el("div", "chart-section");
        sec.appendChild(Heron.el("h3", "group", SECTIONS[spec.section] || spec.section));
        const grid = Heron.el("div", "chart-grid");
        sec.appendChild(grid);
        root.appendChild(sec);
        grids[spec.section] = grid;
      }
      state.charts[spec.id] = new HeronCharts.LineChart(grids[spec.section], spec);
    }
  }

  function buildRanges(layout) {
    const root = document.getElementById("ranges");
    for (const r of layout.ranges) {
      const b = Heron.el("button", null, r);
      b.type = "button";
      b.dataset.range = r;
      b.addEventListener("click", () => selectRange(r));
      root.appendChild(b);
    }
  }

  function markRange() {
    for (const b of document.querySelectorAll("#ranges button")) {
      b.setAttribute("aria-pressed", String(b.dataset.range === state.range));
    }
  }

  async function loadCharts() {
    const range = state.range;
    try {
      const data = await Heron.api("/dashboard/api/charts?range=" + encodeURIComponent(range));
      if (range !== state.range) return;
      state.data = data;
      drawCharts();
      document.body.dataset.range = range;
      Heron.notice("");
    } catch (e) {
      Heron.notice("Could not load the graphs: " + e.message);
    }
    clearTimeout(state.refetch);
    // Minute graphs follow the live tail; coarser ones are refreshed once a minute.
    if (state.data && state.data.period > 60) state.refetch = setTimeout(loadCharts, 60000);
  }

  function drawCharts() {
    const d = state.data;
    for (const [id, chart] of Object.entries(state.charts)) {
      chart.setData({ start: d.start, period: d.period, values: d.charts[id] || [] });
    }
  }

  // Fold the snapshot's last two minute periods into minute-resolution graphs.
  function mergeTail(tail) {
    const d = state.data;
    if (!d || !tail || d.period !== tail.period || !tail.size) return;
    const step = d.period * 1000;
    const lastTs = tail.start + (tail.size - 1) * step;
    const shift = Math.round((lastTs - d.start) / step) - (d.size - 1);
    if (shift > 0) {
      d.start += shift * step;
      for (const series of Object.values(d.charts)) {
        for (const vals of series) {
          vals.splice(0, Math.min(shift, vals.length));
          while (vals.length < d.size) vals.push(null);
        }
      }
    }
    for (const [id, series] of Object.entries(tail.charts)) {
      const target = d.charts[id];
      if (!target) continue;
      series.forEach((vals, i) => {
        vals.forEach((v, j) => {
          const k = Math.round((tail.start + j * step - d.start) / step);
          if (k >= 0 && k < d.size && target[i]) target[i][k] = v;
        });
      });
    }
    drawCharts();
  }

  function selectRange(range) {
    state.range = range;
    history.replaceState(null, "", "#range=" + range);
    markRange();
    loadCharts();
  }

  function connect() {
    const live = document.getElementById("live");
    const text = document.getElementById("live-text");
    const source = new EventSource("/dashboard/events");
    state.source = source;
    source.addEventListener("snapshot", (e) => {
      const snap = JSON.parse(e.data);
      updateTiles(snap.tiles);
      updateAlarms(snap.alarms);
      mergeTail(snap.tail);
      live.className = "live on";
      text.textContent = "live · " + Heron.clock(snap.t, true);
      document.body.dataset.snapshot = String(snap.t);
    });
    source.addEventListener("problem", (e) => {
      Heron.notice(JSON.parse(e.data).message);
    });
    source.onerror = async () => {
      live.className = "live off";
      text.textContent = "reconnecting…";
      if (!(await Heron.checkSession())) source.close();
    };
  }

  // A hidden tab needs no snapshots: close the stream and reopen it when the tab shows again.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden && state.source) { state.source.close(); state.source = null; }
    else if (!document.hidden && !state.source && state.layout) { connect(); loadCharts(); }
  });

  async function start() {
    const match = /range=([0-9a-z]+)/.exec(location.hash);
    try {
      const layout = await Heron.api("/dashboard/api/layout");
      state.layout = layout;
      if (match && layout.ranges.includes(match[1])) state.range = match[1];
      document.getElementById("tile-window").textContent = "last " + Math.round(layout.tileWindowSeconds / 60) + " minutes";
      buildTiles(layout);
      if (!layout.alarmsAvailable) updateAlarms(undefined);
      buildRanges(layout);
      markRange();
      buildCharts(layout);
      connect();
      await loadCharts();
      document.body.dataset.ready = "1";
    } catch (e) {
      Heron.notice("The dashboard could not load: " + e.message);
    }
  }

  document.addEventListener("DOMContentLoaded", start);
})();
