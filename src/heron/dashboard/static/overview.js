// The overview page: status tiles, active alerts, silences, alarms and graphs (with alarm state
// changes as annotations), kept live by one SSE stream.
"use strict";
(function () {
  const KIND_GROUPS = [["function", "Functions"], ["http", "APIs"], ["websocket", "APIs"], ["table", "Tables"]];
  const SECTIONS = { functions: "Lambda functions", http: "HTTP API", websocket: "WebSocket API", tables: "DynamoDB tables" };
  const LEVEL_TEXT = { ok: "ok", warn: "warning", alarm: "alarm", idle: "no traffic" };
  const SNOOZES = [["15m", "15 min"], ["1h", "1 hour"], ["4h", "4 hours"], ["1d", "1 day"]];
  const state = { alarmsShown: "", incidentsShown: "", rows: new Map(), silencesShown: "", annotationKey: "", now: 0, layout: null, range: "1h", charts: {}, data: null, tiles: {}, source: null, refetch: null };

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
    // A state change is a new annotation on the graphs that alarm watches.
    const transitions = JSON.stringify(panel.rows.map((r) => [r.name, r.state, r.since]));
    if (state.annotationKey && transitions !== state.annotationKey) loadAnnotations();
    state.annotationKey = transitions;
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
      const nameCell = Heron.el("td", "alarm-name");
      nameCell.appendChild(alarmLink(r.name));
      tr.append(nameCell, st,
        Heron.el("td", "since", r.since ? Heron.date(r.since) + " " + Heron.clock(r.since, true) : "–"),
        Heron.el("td", "muted", r.reason || ""));
      table.appendChild(tr);
    }
    wrap.appendChild(table);
    root.appendChild(wrap);
  }

  function alarmLink(name) {
    const a = Heron.el("a", null, name);
    a.href = "/dashboard/alarms/" + encodeURIComponent(name);
    return a;
  }

  function pagedText(p) {
    const who = p.person ? p.person + (p.via ? " (" + p.via + ")" : "") : null;
    const level = p.levels ? "level " + p.level + " of " + p.levels : "";
    const parts = [];
    if (who) parts.push(who);
    if (level) parts.push(level);
    if (!who && p.targets.length) parts.push(p.targets.join(", "));
    return parts.join(" · ") || "nobody (no channel)";
  }

  function statusText(r) {
    if (r.status === "acknowledged") return "acknowledged" + (r.acknowledgedBy ? " by " + r.acknowledgedBy : "");
    if (r.status === "snoozed" && r.snoozedUntil) return "snoozed until " + Heron.clock(r.snoozedUntil);
    return r.status;
  }

  async function act(row, action, fields) {
    const buttons = row.querySelectorAll("button, select");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const updated = await Heron.post("/dashboard/api/incidents/" + row.dataset.incident + "/" + action, fields);
      row.dataset.status = updated.status;
      row.querySelector(".status").textContent = statusText(updated);
      Heron.notice("");
    } catch (e) {
      Heron.notice("Could not " + (action === "ack" ? "acknowledge" : action) + " the incident: " + e.message);
    } finally {
      buttons.forEach((b) => { b.disabled = b.dataset.action === "ack" && row.dataset.status === "acknowledged"; });
    }
  }

  function incidentRow(r) {
    const tr = Heron.el("tr", "incident row-" + r.severity);
    tr.dataset.incident = String(r.id);
    tr.dataset.alarm = r.alarm;
    tr.dataset.status = r.status;
    const sev = Heron.el("td");
    sev.appendChild(Heron.el("span", "sev sev-" + r.severity, r.severity));
    const name = Heron.el("td", "alarm-name");
    name.appendChild(alarmLink(r.alarm));
    if (r.reason) name.appendChild(Heron.el("div", "muted small", r.reason));
    const since = Heron.el("td", "since");
    since.append(Heron.el("div", null, Heron.date(r.since) + " " + Heron.clock(r.since, true)));
    const ago = Heron.el("div", "muted small ago");
    ago.dataset.since = String(r.since);
    since.appendChild(ago);
    const actions = Heron.el("td", "actions");
    const ack = Heron.el("button", "small", "Acknowledge");
    ack.type = "button";
    ack.dataset.action = "ack";
    ack.disabled = r.status === "acknowledged";
    ack.addEventListener("click", () => act(tr, "ack"));
    const choice = Heron.el("select", "small");
    choice.setAttribute("aria-label", "Snooze for");
    for (const [value, label] of SNOOZES) {
      const o = Heron.el("option", null, label);
      o.value = value;
      choice.appendChild(o);
    }
    const snooze = Heron.el("button", "small secondary", "Snooze");
    snooze.type = "button";
    snooze.dataset.action = "snooze";
    snooze.addEventListener("click", () => act(tr, "snooze", { duration: choice.value }));
    const resolve = Heron.el("button", "small secondary", "Resolve");
    resolve.type = "button";
    resolve.dataset.action = "resolve";
    resolve.addEventListener("click", () => act(tr, "resolve"));
    const explain = Heron.el("a", "small", "explain");
    explain.href = "/dashboard/notify#what=" + encodeURIComponent(r.alarm);
    const box = Heron.el("div", "box");
    box.append(ack, choice, snooze, resolve, explain);
    actions.appendChild(box);
    tr.append(sev, name, Heron.el("td", "status", statusText(r)), since,
      Heron.el("td", "paged", pagedText(r.paged)), actions);
    return tr;
  }

  function updateIncidents(alerts) {
    const root = document.getElementById("incidents");
    if (alerts === undefined) {
      if (state.incidentsShown !== "none") {
        state.incidentsShown = "none";
        root.textContent = "";
        root.appendChild(Heron.el("p", "muted", "Notifications are not running on this instance."));
        document.getElementById("silence-form").classList.add("hidden");
      }
      return;
    }
    const c = alerts.counts;
    document.getElementById("alert-counts").textContent =
      c.open + " open · " + c.acknowledged + " acknowledged · " + c.snoozed + " snoozed";
    // Rows are kept (with their snooze choice and focus) while their incident is unchanged.
    if (!alerts.incidents.length) {
      if (state.incidentsShown !== "empty") {
        state.incidentsShown = "empty";
        state.rows = new Map();
        root.textContent = "";
        root.appendChild(Heron.el("p", "muted ok-note", "No open incidents."));
      }
    } else {
      let table = root.querySelector("table.incident-table");
      if (!table) {
        root.textContent = "";
        table = Heron.el("table", "alarm-table incident-table");
        const head = Heron.el("tr");
        for (const h of ["Severity", "Alarm", "Status", "Since", "Paged", ""]) head.appendChild(Heron.el("th", null, h));
        table.appendChild(head);
        root.appendChild(table);
        state.rows = new Map();
      }
      state.incidentsShown = "rows";
      const next = new Map();
      for (const r of alerts.incidents) {
        const key = JSON.stringify(r);
        const kept = state.rows.get(r.id);
        const view = kept && kept.key === key ? kept : { key, tr: incidentRow(r) };
        if (kept && kept !== view) kept.tr.remove();
        next.set(r.id, view);
        table.appendChild(view.tr); // moves an existing row into its new place
      }
      for (const [id, view] of state.rows) if (!next.has(id)) view.tr.remove();
      state.rows = next;
    }
    for (const el of root.querySelectorAll(".ago")) {
      el.textContent = "for " + Heron.span(state.now - Number(el.dataset.since));
    }
    updateSilences(alerts.silences);
  }

  function updateSilences(silences) {
    const key = JSON.stringify(silences);
    if (key === state.silencesShown) return;
    state.silencesShown = key;
    const root = document.getElementById("silences");
    root.textContent = "";
    if (!silences.length) {
      root.appendChild(Heron.el("p", "muted small", "No silences in force."));
      return;
    }
    const table = Heron.el("table", "alarm-table silence-table");
    const head = Heron.el("tr");
    for (const h of ["Matcher", "Status", "From", "Until", "Comment", ""]) head.appendChild(Heron.el("th", null, h));
    table.appendChild(head);
    for (const s of silences) {
      const tr = Heron.el("tr");
      tr.dataset.silence = String(s.id);
      const expire = Heron.el("button", "small secondary", "Expire");
      expire.type = "button";
      expire.addEventListener("click", async () => {
        expire.disabled = true;
        try {
          await Heron.post("/dashboard/api/silences/" + s.id + "/expire");
          tr.remove();
        } catch (e) {
          Heron.notice("Could not expire the silence: " + e.message);
          expire.disabled = false;
        }
      });
      const cell = Heron.el("td");
      cell.appendChild(expire);
      tr.append(Heron.el("td", "alarm-name", s.pattern), Heron.el("td", null, s.status),
        Heron.el("td", "since", Heron.date(s.starts) + " " + Heron.clock(s.starts)),
        Heron.el("td", "since", Heron.date(s.ends) + " " + Heron.clock(s.ends)),
        Heron.el("td", "muted", s.comment + " (" + s.createdBy + ")"), cell);
      table.appendChild(tr);
    }
    root.appendChild(table);
  }

  function setupSilenceForm() {
    const form = document.getElementById("silence-form");
    const error = document.getElementById("silence-error");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const fields = Object.fromEntries(new FormData(form).entries());
      for (const input of form.querySelectorAll("input")) input.removeAttribute("aria-invalid");
      try {
        const created = await Heron.post("/dashboard/api/silences", fields);
        error.classList.add("hidden");
        form.querySelector("#silence-comment").value = "";
        form.querySelector("#silence-pattern").value = "";
        state.silencesShown = "";
        document.body.dataset.silenced = String(created.id);
      } catch (err) {
        error.textContent = err.message;
        error.classList.remove("hidden");
        const bad = err.field && form.querySelector('[name="' + err.field + '"]');
        if (bad) { bad.setAttribute("aria-invalid", "true"); bad.focus(); }
      }
    });
  }

  async function loadAnnotations() {
    if (!state.layout || !state.layout.alarmsAvailable) return;
    const range = state.range;
    try {
      const data = await Heron.api("/dashboard/api/annotations?range=" + encodeURIComponent(range));
      if (range !== state.range) return;
      for (const [id, chart] of Object.entries(state.charts)) chart.setAnnotations(data.annotations[id] || []);
    } catch (e) {
      Heron.notice("Could not load the alarm annotations: " + e.message);
    }
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
      // Marks for the first-load benchmark (bench/dashboard_load.py): graphs drawn with data.
      if (!performance.getEntriesByName("heron-charts-drawn").length) performance.mark("heron-charts-drawn");
      await loadAnnotations();
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
      state.now = snap.t;
      updateTiles(snap.tiles);
      updateIncidents(snap.alerts);
      updateAlarms(snap.alarms);
      mergeTail(snap.tail);
      live.className = "live on";
      text.textContent = "live · " + Heron.clock(snap.t, true);
      document.body.dataset.snapshot = String(snap.t);
      if (!performance.getEntriesByName("heron-first-snapshot").length) performance.mark("heron-first-snapshot");
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
      setupSilenceForm();
      connect();
      await loadCharts();
      document.body.dataset.ready = "1";
    } catch (e) {
      Heron.notice("The dashboard could not load: " + e.message);
    }
  }

  document.addEventListener("DOMContentLoaded", start);
})();
