// Shared helpers for the dashboard pages: JSON fetches that follow an expired session to the
// sign-in page, number and time formatting, and the page's error notice.
"use strict";
(function () {
  const Heron = {};

  Heron.signIn = function (expired) {
    window.location.assign("/dashboard/login" + (expired ? "?expired=1" : ""));
  };

  // GET a dashboard JSON endpoint; 401 goes to sign-in, other errors throw with the message.
  Heron.api = async function (path) {
    const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (response.status === 401) {
      Heron.signIn(body && body.error === "SessionExpired");
      throw new Error("not signed in");
    }
    if (!response.ok) {
      throw new Error((body && body.message) || ("request failed: HTTP " + response.status));
    }
    return body;
  };

  // POST a form to a dashboard endpoint with the page's CSRF token; errors throw with the
  // server's message (and the field it names, as err.field).
  Heron.post = async function (path, fields) {
    const meta = document.querySelector('meta[name="csrf-token"]');
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
        "X-CSRF-Token": meta ? meta.content : "",
      },
      body: new URLSearchParams(fields || {}).toString(),
    });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (response.status === 401) {
      Heron.signIn(body && body.error === "SessionExpired");
      throw new Error("not signed in");
    }
    if (!response.ok) {
      const err = new Error((body && body.message) || ("request failed: HTTP " + response.status));
      err.field = body && body.field;
      throw err;
    }
    return body;
  };

  // 95000 -> "1m 35s"; 7200000 -> "2h 0m"; for "since when" and "for how long".
  Heron.span = function (ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
    if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
    return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
  };

  // After a stream error: find out whether the session is gone (then sign in again).
  Heron.checkSession = async function () {
    try { await Heron.api("/dashboard/api/session"); return true; } catch (e) { return false; }
  };

  Heron.notice = function (message) {
    const el = document.getElementById("notice");
    if (!el) return;
    el.textContent = message || "";
    el.classList.toggle("hidden", !message);
  };

  // 1234 -> "1,234"; 0.01234 -> "0.0123"; 123456789 -> "123M".
  Heron.fmt = function (v, unit) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    if (unit === "ms" && Math.abs(v) >= 1000) return Heron.fmt(v / 1000) + " s";
    const a = Math.abs(v);
    let text;
    if (a >= 1e9) text = (v / 1e9).toFixed(a >= 1e10 ? 0 : 1) + "G";
    else if (a >= 1e6) text = (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + "M";
    else if (a >= 1e4) text = (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + "k";
    else if (a >= 100 || Number.isInteger(v)) text = Math.round(v).toLocaleString("en-US");
    else if (a >= 1) text = v.toFixed(1);
    else if (a === 0) text = "0";
    else text = v.toPrecision(2);
    return text + (unit === "ms" ? " ms" : unit === "%" ? " %" : "");
  };

  const pad = (n) => String(n).padStart(2, "0");
  Heron.clock = function (ms, withSeconds) {
    const d = new Date(ms);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + (withSeconds ? ":" + pad(d.getSeconds()) : "");
  };
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  Heron.date = function (ms) {
    const d = new Date(ms);
    return MONTHS[d.getMonth()] + " " + d.getDate();
  };
  Heron.stamp = function (ms) {
    const d = new Date(ms);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      Heron.clock(ms, true) + "." + String(d.getMilliseconds()).padStart(3, "0");
  };

  Heron.el = function (tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  };

  window.Heron = Heron;
})();
