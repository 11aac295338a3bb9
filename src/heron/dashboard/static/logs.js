// The logs page: newest events matching a filter pattern, and a live tail over SSE.
"use strict";
(function () {
  const MAX_ROWS = 1000;
  const RANGES = ["15m", "1h", "6h", "24h", "7d", "30d", "455d"];
  let tail = null;

  const $ = (id) => document.getElementById(id);

  function row(e, fresh) {
    const tr = Heron.el("tr", fresh ? "fresh" : null);
    tr.append(Heron.el("td", "time", Heron.stamp(e.t)), Heron.el("td", "stream", e.stream), Heron.el("td", "msg", e.message));
    return tr;
  }

  function show(events, replace) {
    const body = $("log-rows");
    if (replace) body.textContent = "";
    // Newest first: a search answers ascending, so walk it backwards.
    const frag = document.createDocumentFragment();
    for (let i = events.length - 1; i >= 0; i--) frag.appendChild(row(events[i], !replace));
    body.insertBefore(frag, body.firstChild);
    while (body.childElementCount > MAX_ROWS) body.removeChild(body.lastChild);
    $("log-empty").classList.toggle("hidden", body.childElementCount > 0);
    if (!body.childElementCount) $("log-empty").textContent = "No matching events.";
  }

  function params() {
    const p = new URLSearchParams();
    p.set("group", $("log-group").value);
    if ($("log-pattern").value.trim()) p.set("pattern", $("log-pattern").value);
    return p;
  }

  async function search(ev) {
    if (ev) ev.preventDefault();
    stopTail();
    const p = params();
    p.set("range", $("log-range").value);
    p.set("limit", "200");
    $("log-status").textContent = "searching…";
    try {
      const result = await Heron.api("/dashboard/api/logs?" + p.toString());
      Heron.notice("");
      show(result.events, true);
      $("log-status").textContent = result.events.length + " newest matching events" +
        (result.complete ? "" : " (search stopped early: narrow the range or pattern)");
      document.body.dataset.searched = String(result.events.length);
    } catch (e) {
      $("log-status").textContent = "";
      Heron.notice(e.message);
    }
  }

  function stopTail() {
    if (tail) { tail.close(); tail = null; }
    $("log-tail").setAttribute("aria-pressed", "false");
    $("log-tail").textContent = "Live tail";
  }

  function startTail() {
    stopTail();
    $("log-rows").textContent = "";
    const source = new EventSource("/dashboard/logs/tail?" + params().toString());
    tail = source;
    $("log-tail").setAttribute("aria-pressed", "true");
    $("log-tail").textContent = "Stop tail";
    $("log-status").textContent = "tailing " + $("log-group").value + "…";
    let first = true;
    source.addEventListener("events", (e) => {
      const data = JSON.parse(e.data);
      show(data.events, false);
      if (first) { first = false; Heron.notice(""); }
      if (data.skipped) Heron.notice(data.skipped + " events were skipped to keep up.");
    });
    source.addEventListener("problem", (e) => { Heron.notice(JSON.parse(e.data).message); stopTail(); });
    source.onerror = async () => {
      if (tail !== source) return;
      if (!(await Heron.checkSession())) { stopTail(); return; }
      // A bad pattern or group ends the stream with a 4xx: ask the search endpoint why.
      if (source.readyState === EventSource.CLOSED) {
        stopTail();
        try { await Heron.api("/dashboard/api/logs?" + params().toString() + "&range=15m&limit=1"); }
        catch (err) { Heron.notice(err.message); }
      }
    };
  }

  async function start() {
    for (const r of RANGES) {
      const o = Heron.el("option", null, r);
      o.value = r;
      if (r === "1h") o.selected = true;
      $("log-range").appendChild(o);
    }
    try {
      const data = await Heron.api("/dashboard/api/log-groups");
      for (const g of data.groups) {
        const o = Heron.el("option", null, g.name);
        o.value = g.name;
        $("log-group").appendChild(o);
      }
      const want = new URLSearchParams(location.search).get("group");
      const lambda = data.groups.find((g) => g.name.startsWith("/aws/lambda/"));
      if (want) $("log-group").value = want;
      else if (lambda) $("log-group").value = lambda.name;
      if (!data.groups.length) $("log-empty").textContent = "No log groups yet.";
    } catch (e) {
      Heron.notice("Could not list the log groups: " + e.message);
    }
    $("log-form").addEventListener("submit", search);
    $("log-tail").addEventListener("click", () => (tail ? stopTail() : startTail()));
    document.body.dataset.ready = "1";
  }

  document.addEventListener("DOMContentLoaded", start);
})();
