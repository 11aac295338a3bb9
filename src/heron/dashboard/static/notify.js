// The notifications page: the local inbox (refreshed every few seconds) and the delivery
// ledger's "explain" for one alarm, alert id or #delivery.
"use strict";
(function () {
  const REFRESH_MS = 5000;
  const $ = (id) => document.getElementById(id);
  let timer = null;

  function when(ms) { return ms ? Heron.date(ms) + " " + Heron.clock(ms, true) : "–"; }

  async function loadInbox() {
    clearTimeout(timer);
    try {
      const data = await Heron.api("/dashboard/api/inbox?limit=100");
      const body = $("inbox").querySelector("tbody");
      body.textContent = "";
      for (const item of data.items) {
        const tr = Heron.el("tr", "inbox-item");
        tr.dataset.alarm = item.alarm;
        const sev = Heron.el("td");
        sev.appendChild(Heron.el("span", "sev sev-" + item.severity, item.severity));
        const title = Heron.el("td");
        const details = Heron.el("details");
        details.append(Heron.el("summary", null, item.title), Heron.el("pre", "body", item.body));
        title.appendChild(details);
        const link = Heron.el("a", "small", "explain");
        link.href = "#what=" + encodeURIComponent(item.alarm);
        link.addEventListener("click", () => { setTimeout(fromHash, 0); });
        const cell = Heron.el("td");
        if (item.alarm) cell.appendChild(link);
        tr.append(Heron.el("td", "since", when(item.at)), sev, Heron.el("td", null, item.recipient), title, cell);
        body.appendChild(tr);
      }
      $("inbox-empty").classList.toggle("hidden", data.items.length > 0);
      document.body.dataset.inbox = String(data.items.length);
    } catch (e) {
      Heron.notice("Could not load the inbox: " + e.message);
    }
    if (!document.hidden) timer = setTimeout(loadInbox, REFRESH_MS);
  }

  function badge(kind) {
    return kind ? Heron.el("span", "kind kind-" + kind.replace(/[^a-z-]/g, ""), kind) : document.createTextNode("");
  }

  function showExplain(data) {
    const root = $("explain-result");
    root.textContent = "";
    for (const alert of data.alerts) {
      const card = Heron.el("div", "panel explain-alert");
      card.dataset.alert = alert.alertId;
      card.appendChild(Heron.el("h3", null, alert.alarm + " \u2014 message " + alert.alertId));
      const table = Heron.el("table", "alarm-table");
      const head = Heron.el("tr");
      for (const h of ["Time", "Stage", "Verdict", "", "Reason", "Where"]) head.appendChild(Heron.el("th", null, h));
      table.appendChild(head);
      for (const e of alert.entries) {
        const tr = Heron.el("tr", "entry verdict-" + e.verdict);
        tr.dataset.kind = e.kind;
        const k = Heron.el("td");
        k.appendChild(badge(e.kind));
        const where = [e.channel, e.delivery !== null ? "#" + e.delivery : ""].filter(Boolean).join(" ");
        tr.append(Heron.el("td", "since", when(e.at)), Heron.el("td", null, e.stage), Heron.el("td", null, e.verdict), k,
          Heron.el("td", null, e.reason + (e.detail ? ": " + e.detail : "")), Heron.el("td", "muted", where));
        table.appendChild(tr);
      }
      card.appendChild(table);
      if (alert.deliveries.length) {
        card.appendChild(Heron.el("h3", "sub", "Deliveries"));
        const dt = Heron.el("table", "alarm-table deliveries");
        const dh = Heron.el("tr");
        for (const h of ["#", "Channel", "To", "Kind", "Status", "Attempts", "Due", "Done", "Last error"]) dh.appendChild(Heron.el("th", null, h));
        dt.appendChild(dh);
        for (const d of alert.deliveries) {
          const tr = Heron.el("tr", "delivery status-" + d.status);
          tr.append(Heron.el("td", null, "#" + d.id), Heron.el("td", null, d.channel), Heron.el("td", null, d.recipient || "–"),
            Heron.el("td", null, d.kind), Heron.el("td", null, d.status), Heron.el("td", null, String(d.attempts)),
            Heron.el("td", "since", when(d.due)), Heron.el("td", "since", when(d.done)), Heron.el("td", "muted", d.lastError || ""));
          dt.appendChild(tr);
        }
        card.appendChild(dt);
      }
      root.appendChild(card);
    }
  }

  async function explain(what) {
    $("explain-what").value = what;
    try {
      const data = await Heron.api("/dashboard/api/explain?what=" + encodeURIComponent(what));
      showExplain(data);
      Heron.notice("");
      document.body.dataset.explained = what;
    } catch (e) {
      $("explain-result").textContent = "";
      Heron.notice(e.message);
    }
  }

  function fromHash() {
    const match = /what=([^&]+)/.exec(location.hash);
    if (match) explain(decodeURIComponent(match[1]));
  }

  document.addEventListener("visibilitychange", () => { if (!document.hidden) loadInbox(); });
  document.addEventListener("DOMContentLoaded", () => {
    $("explain-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const what = $("explain-what").value.trim();
      if (!what) { Heron.notice("Name an alarm, a message id or a #delivery."); return; }
      history.replaceState(null, "", "#what=" + encodeURIComponent(what));
      explain(what);
    });
    fromHash();
    loadInbox().then(() => { document.body.dataset.ready = "1"; });
  });
})();
