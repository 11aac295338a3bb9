// A small dependency-free line chart on canvas: many series, gaps, threshold lines, alarm
// state changes as vertical markers, a time axis, a hover tooltip and a clickable legend.
// Drawing cost is one path per series; a big graph (a thousand series of 1,440 points) is drawn
// in slices of a few milliseconds each so the page never freezes while it draws. Series values
// may be arrays with null or typed arrays with NaN for periods without data.
"use strict";
(function () {
  const PALETTE = ["#2563eb", "#0891b2", "#7c3aed", "#db2777", "#ea580c", "#16a34a",
    "#ca8a04", "#475569", "#0d9488", "#9333ea", "#e11d48", "#65a30d"];
  const M = { left: 46, right: 12, top: 8, bottom: 22 };
  // Legend entries shown at most (the rest are named in the tooltip).
  const LEGEND_MAX = 40;
  // Above this many points a draw is split into slices of about SLICE_MS each.
  const BIG_DRAW = 100000;
  const SLICE_MS = 12;
  const gap = (v) => v === null || v === undefined || v !== v;
  const STATE_COLORS = { ALARM: "#dc2626", OK: "#1f9d55", INSUFFICIENT_DATA: "#9aa5b1" };
  const TIME_STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    172800, 604800, 1209600, 2592000, 7776000].map((s) => s * 1000);

  // Round tick values covering [0, max] with about `count` steps.
  function niceTicks(max, count) {
    if (!(max > 0)) return [0, 1];
    const raw = max / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const ticks = [];
    for (let v = 0; v <= max + step * 0.001; v += step) ticks.push(+v.toPrecision(12));
    if (ticks[ticks.length - 1] < max) ticks.push(+(ticks[ticks.length - 1] + step).toPrecision(12));
    return ticks;
  }

  function timeTicks(start, end, width) {
    const span = end - start;
    const want = Math.max(2, Math.floor(width / 90));
    const step = TIME_STEPS.find((s) => span / s <= want) || TIME_STEPS[TIME_STEPS.length - 1];
    const offset = new Date(start).getTimezoneOffset() * 60000;
    const first = Math.ceil((start - offset) / step) * step + offset;
    const ticks = [];
    for (let t = first; t <= end; t += step) ticks.push(t);
    return { ticks, daily: step >= 86400000 || span > 2 * 86400000 };
  }

  class LineChart {
    constructor(container, spec) {
      this.spec = spec; // {title, unit, series: [labels], thresholds: [{value, label}]}
      this.hidden = new Set();
      this.data = null;
      this.annotations = [];
      const card = Heron.el("div", "chart-card");
      card.dataset.chart = spec.id;
      const title = Heron.el("h3", null, spec.title);
      title.appendChild(Heron.el("span", "unit", spec.unit));
      this.plot = Heron.el("div", "plot");
      this.canvas = document.createElement("canvas");
      this.cursor = Heron.el("div", "cursor hidden");
      this.tip = Heron.el("div", "tooltip hidden");
      this.empty = Heron.el("div", "nodata hidden", "no data in this range");
      this.plot.append(this.canvas, this.cursor, this.tip, this.empty);
      this.legend = Heron.el("div", "legend");
      card.append(title, this.plot, this.legend);
      container.appendChild(card);
      this.card = card;
      this.buildLegend();
      this.plot.addEventListener("mousemove", (e) => this.hover(e));
      this.plot.addEventListener("mouseleave", () => this.unhover());
      if (window.ResizeObserver) new ResizeObserver(() => this.draw()).observe(this.plot);
    }

    // A limit line (e.g. provisioned capacity) takes the colour of the series it bounds.
    color(i) {
      const of = this.spec.limits && this.spec.limits[String(i)];
      return PALETTE[(of === undefined ? i : of) % PALETTE.length];
    }

    isLimit(i) { return Boolean(this.spec.limits && this.spec.limits[String(i)] !== undefined); }

    buildLegend() {
      this.legend.textContent = "";
      this.spec.series.slice(0, LEGEND_MAX).forEach((label, i) => {
        const item = Heron.el("span");
        const sw = Heron.el("i", "swatch");
        sw.style.background = this.color(i);
        sw.style.color = this.color(i);
        if (this.isLimit(i)) sw.classList.add("dashed");
        item.append(sw, document.createTextNode(" " + label));
        item.addEventListener("click", () => {
          if (this.hidden.has(i)) this.hidden.delete(i); else this.hidden.add(i);
          item.classList.toggle("off", this.hidden.has(i));
          this.draw();
        });
        this.legend.appendChild(item);
      });
      if (this.spec.series.length > LEGEND_MAX) {
        this.legend.appendChild(Heron.el("span", "more",
          "+" + (this.spec.series.length - LEGEND_MAX).toLocaleString("en-US") + " more (hover the graph)"));
      }
      this.thresholdNote = Heron.el("span", "threshold");
      this.legend.appendChild(this.thresholdNote);
    }

    // data: {start (ms), period (s), values: [[...per series]]}
    setData(data) { this.data = data; this.draw(); }

    // Alarm state changes: [{t (ms), alarm, state, old, reason}], drawn as vertical markers.
    setAnnotations(list) {
      this.annotations = list || [];
      this.card.dataset.annotations = String(this.annotations.length);
      this.draw();
    }

    geometry() {
      const w = this.plot.clientWidth, h = this.plot.clientHeight;
      return { w, h, x0: M.left, x1: w - M.right, y0: M.top, y1: h - M.bottom };
    }

    draw() {
      // Each draw supersedes any big draw still in progress.
      const gen = (this.gen = (this.gen || 0) + 1);
      const d = this.data;
      const { w, h, x0, x1, y0, y1 } = this.geometry();
      if (!w || !h) return;
      const dpr = window.devicePixelRatio || 1;
      if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
        this.canvas.width = Math.round(w * dpr);
        this.canvas.height = Math.round(h * dpr);
      }
      const ctx = this.canvas.getContext("2d");
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      if (!d) return;
      const n = d.values.length ? d.values[0].length : 0;
      let max = 0, any = false;
      d.values.forEach((vals, i) => {
        if (this.hidden.has(i)) return;
        for (let k = 0; k < vals.length; k++) { const v = vals[k]; if (!gap(v)) { any = true; if (v > max) max = v; } }
      });
      // A threshold far above the data would flatten it: draw it only when it is in reach.
      const shown = [], above = [];
      for (const t of this.spec.thresholds) {
        if (t.value <= Math.max(max * 5, 0)) shown.push(t); else above.push(t);
      }
      for (const t of shown) max = Math.max(max, t.value);
      this.empty.classList.toggle("hidden", any);
      const ticks = niceTicks(max || 1, 4);
      const top = ticks[ticks.length - 1];
      this.scale = { n, top, start: d.start, period: d.period * 1000 };
      const xs = (i) => x0 + (n <= 1 ? 0 : (i / (n - 1)) * (x1 - x0));
      const ys = (v) => y1 - (v / top) * (y1 - y0);
      ctx.font = "11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
      ctx.fillStyle = "#6b7785";
      ctx.strokeStyle = "#e9edf2";
      ctx.lineWidth = 1;
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      for (const t of ticks) {
        const y = Math.round(ys(t)) + 0.5;
        ctx.beginPath(); ctx.moveTo(x0, y); ctx.lineTo(x1, y); ctx.stroke();
        ctx.fillText(Heron.fmt(t), x0 - 6, y);
      }
      const end = d.start + Math.max(0, n - 1) * d.period * 1000;
      const tt = timeTicks(d.start, end, x1 - x0);
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      for (const t of tt.ticks) {
        const x = x0 + ((t - d.start) / Math.max(1, end - d.start)) * (x1 - x0);
        ctx.fillText(tt.daily ? Heron.date(t) : Heron.clock(t), x, y1 + 6);
      }
      const finish = () => {
        this.drawOverlays(ctx, shown, above, ys, d, n, x0, x1, y0, y1);
        this.card.dataset.drawn = String(gen);
        if (this.onDrawn) this.onDrawn(gen);
      };
      const order = [];
      let points = 0;
      d.values.forEach((vals, i) => { if (!this.hidden.has(i)) { order.push(i); points += n; } });
      if (points <= BIG_DRAW) {
        for (const i of order) this.drawSeries(ctx, d.values[i], i, n, xs, ys);
        finish();
        return;
      }
      // A big graph: draw series for about SLICE_MS, then yield to the page and continue,
      // unless a newer draw (resize, legend click, new data) has started meanwhile.
      let next = 0;
      const slice = () => {
        if (gen !== this.gen) return;
        const until = performance.now() + SLICE_MS;
        while (next < order.length && performance.now() < until) {
          const i = order[next++];
          this.drawSeries(ctx, d.values[i], i, n, xs, ys);
        }
        if (next < order.length) setTimeout(slice, 0); else finish();
      };
      slice();
    }

    drawSeries(ctx, vals, i, n, xs, ys) {
      ctx.setLineDash(this.isLimit(i) ? [6, 3] : []);
      ctx.lineWidth = 1.6;
      ctx.lineJoin = "round";
      ctx.strokeStyle = this.color(i);
      ctx.fillStyle = this.color(i);
      ctx.beginPath();
      let pen = false;
      for (let k = 0; k < n; k++) {
        const v = vals[k];
        if (gap(v)) { pen = false; continue; }
        const x = xs(k), y = ys(v);
        const isolated = (k === 0 || gap(vals[k - 1])) && (k === n - 1 || gap(vals[k + 1]));
        if (isolated) ctx.fillRect(x - 1.5, y - 1.5, 3, 3);
        if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
        pen = true;
      }
      ctx.stroke();
      ctx.setLineDash([]);
    }

    drawOverlays(ctx, shown, above, ys, d, n, x0, x1, y0, y1) {
      ctx.setLineDash([5, 4]);
      ctx.lineWidth = 1.2;
      ctx.strokeStyle = "#dc2626";
      ctx.fillStyle = "#dc2626";
      ctx.textAlign = "right";
      ctx.textBaseline = "bottom";
      for (const t of shown) {
        const y = Math.round(ys(t.value)) + 0.5;
        ctx.beginPath(); ctx.moveTo(x0, y); ctx.lineTo(x1, y); ctx.stroke();
        // Labels go above their line unless that would leave the plot.
        if (y - 14 < y0) { ctx.textBaseline = "top"; ctx.fillText(t.label, x1 - 2, y + 3); }
        else { ctx.textBaseline = "bottom"; ctx.fillText(t.label, x1 - 2, y - 2); }
      }
      ctx.setLineDash([]);
      this.drawAnnotations(ctx, d, n, x0, x1, y0, y1);
      this.thresholdNote.textContent = above.length
        ? "threshold " + above.map((t) => t.label).join(", ") + " (above the data)" : "";
    }

    // Time (ms) -> x on the slot grid (slot i starts at start + i * period).
    xOf(t, d, n, x0, x1) {
      const slot = (t - d.start) / (d.period * 1000);
      return x0 + (n <= 1 ? 0 : (slot / (n - 1)) * (x1 - x0));
    }

    drawAnnotations(ctx, d, n, x0, x1, y0, y1) {
      if (!this.annotations.length || !n) return;
      ctx.lineWidth = 1.5;
      ctx.textAlign = "left";
      ctx.textBaseline = "top";
      ctx.font = "bold 10px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
      let lastLabel = -Infinity;
      for (const a of this.annotations) {
        const x = Math.round(this.xOf(a.t, d, n, x0, x1)) + 0.5;
        if (x < x0 - 1 || x > x1 + 1) continue;
        const color = STATE_COLORS[a.state] || "#475569";
        ctx.strokeStyle = color;
        ctx.fillStyle = color;
        ctx.setLineDash([2, 3]);
        ctx.beginPath(); ctx.moveTo(x, y0); ctx.lineTo(x, y1); ctx.stroke();
        ctx.setLineDash([]);
        ctx.beginPath(); ctx.moveTo(x - 4, y0); ctx.lineTo(x + 4, y0); ctx.lineTo(x, y0 + 6); ctx.fill();
        // Labels only where they do not overlap the previous one.
        if (x - lastLabel > 60 && x + 56 < x1) {
          ctx.fillText((a.state === "INSUFFICIENT_DATA" ? "NO DATA" : a.state) + " " + Heron.clock(a.t), x + 3, y0 + 2);
          lastLabel = x;
        }
      }
    }

    hover(e) {
      if (!this.data || !this.scale || !this.scale.n) return;
      const { x0, x1 } = this.geometry();
      const rect = this.plot.getBoundingClientRect();
      const x = e.clientX - rect.left;
      const n = this.scale.n;
      const k = Math.max(0, Math.min(n - 1, Math.round(((x - x0) / (x1 - x0)) * (n - 1))));
      const cx = x0 + (n <= 1 ? 0 : (k / (n - 1)) * (x1 - x0));
      this.cursor.style.left = cx + "px";
      this.cursor.classList.remove("hidden");
      const rows = [];
      this.data.values.forEach((vals, i) => {
        if (!this.hidden.has(i) && !gap(vals[k])) rows.push([i, vals[k]]);
      });
      rows.sort((a, b) => b[1] - a[1]);
      this.tip.textContent = "";
      const t = this.scale.start + k * this.scale.period;
      this.tip.appendChild(Heron.el("div", "t", Heron.date(t) + " " + Heron.clock(t)));
      if (!rows.length) this.tip.appendChild(Heron.el("div", null, "no data"));
      for (const [i, v] of rows.slice(0, 12)) {
        const row = Heron.el("div", "row");
        const sw = Heron.el("i", "swatch");
        sw.style.background = this.color(i);
        row.append(sw, Heron.el("span", null, this.spec.series[i]), Heron.el("b", null, Heron.fmt(v, this.spec.unit)));
        this.tip.appendChild(row);
      }
      if (rows.length > 12) this.tip.appendChild(Heron.el("div", "t", "+" + (rows.length - 12) + " more"));
      // Alarm state changes within this slot.
      const step = this.scale.period;
      for (const a of this.annotations) {
        if (a.t >= t - step / 2 && a.t < t + step / 2) {
          const row = Heron.el("div", "row annotation");
          const sw = Heron.el("i", "swatch");
          sw.style.background = STATE_COLORS[a.state] || "#475569";
          row.append(sw, Heron.el("span", null, a.alarm + ": " + (a.old || "?") + " \u2192 " + a.state + " at " + Heron.clock(a.t, true)));
          this.tip.appendChild(row);
        }
      }
      this.tip.classList.remove("hidden");
      const tw = this.tip.offsetWidth;
      this.tip.style.left = (cx + 12 + tw > x1 ? cx - 12 - tw : cx + 12) + "px";
      this.tip.style.top = "6px";
    }

    unhover() {
      this.cursor.classList.add("hidden");
      this.tip.classList.add("hidden");
    }
  }

  window.HeronCharts = { LineChart, niceTicks, timeTicks };
})();
