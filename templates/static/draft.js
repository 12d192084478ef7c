// The counter's draft (agents/dossiers/drafts.py): what is typed is saved a moment after the last
// keystroke, the counter timer runs while the page is visible, and a page brought back by the
// browser's Back button is reloaded so that it shows what the server knows (filed or not).
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form) { return; }
  var status = document.getElementById("draft-status");
  var timer = document.getElementById("counter-timer");
  var delay = +form.dataset.autosaveDelay || 800;
  var heartbeatMs = (+form.dataset.heartbeatSeconds || 30) * 1000;
  var dirty = false, inFlight = false, submitting = false, pending = null;
  var active = timer ? +timer.dataset.activeSeconds || 0 : 0;
  var standard = timer ? +timer.dataset.standardSeconds || 900 : 900;
  var syncedAt = Date.now();

  function say(kind) {
    if (status && status.dataset[kind]) { status.textContent = status.dataset[kind]; }
    if (status) { status.dataset.state = kind; }
  }

  function body(withValues) {
    var data = new FormData(withValues ? form : undefined);
    if (!withValues) { data.append("_csrf_token", form.querySelector("input[name=_csrf_token]").value); }
    return new URLSearchParams(data);
  }

  function answered(response) {
    if (response.status === 409) {  // filed (or discarded) meanwhile: the page reloads into the receipt
      say("filed");
      window.location.reload();
      return;
    }
    if (!response.ok) { throw new Error("HTTP " + response.status); }
    return response.json().then(function (saved) {
      active = saved.active_seconds;
      syncedAt = Date.now();
      tick();
    });
  }

  function save() {
    pending = null;
    if (submitting) { return; }
    if (inFlight) { pending = setTimeout(save, delay); return; }
    inFlight = true;
    dirty = false;
    say("saving");
    fetch(form.dataset.autosave, { method: "POST", body: body(true), credentials: "same-origin" })
      .then(answered)
      .then(function () { if (!dirty) { say("saved"); } })
      .catch(function () { dirty = true; say("failed"); pending = setTimeout(save, delay * 5); })
      .finally(function () { inFlight = false; });
  }

  function changed() {
    dirty = true;
    if (pending) { clearTimeout(pending); }
    pending = setTimeout(save, delay);
  }

  function heartbeat() {
    if (submitting || dirty || inFlight || document.visibilityState !== "visible") { return; }
    fetch(form.dataset.heartbeat, { method: "POST", body: body(false), credentials: "same-origin" })
      .then(answered)
      .catch(function () { /* the next one will tell */ });
  }

  function tick() {
    if (!timer) { return; }
    var seconds = active + (document.visibilityState === "visible" ? Math.floor((Date.now() - syncedAt) / 1000) : 0);
    var minutes = Math.floor(seconds / 60), rest = seconds % 60;
    timer.textContent = minutes + ":" + (rest < 10 ? "0" : "") + rest;
    timer.classList.toggle("over", seconds > standard);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function (event) {
    if (event.defaultPrevented) { return; }  // refused in the browser (form-rules.js): still a draft
    submitting = true;
    if (pending) { clearTimeout(pending); pending = null; }
  });
  // An upload, a file taken out or reused, an identity check, a look-up (the page's other forms) reload the page:
  // what was typed is saved first, so it comes back.
  document.querySelectorAll("#documents form, form.hidden-form, #lookup-form").forEach(function (other) {
    other.addEventListener("submit", function (event) {
      if (!dirty && !inFlight) { return; }
      event.preventDefault();
      if (pending) { clearTimeout(pending); pending = null; }
      var send = function () { other.submit(); };
      var saving = inFlight ? Promise.resolve() : fetch(form.dataset.autosave, { method: "POST", body: body(true), credentials: "same-origin" });
      dirty = false;
      saving.then(send, send);
    });
  });
  // Leaving with unsaved typing: one last save that survives the page.
  window.addEventListener("pagehide", function () {
    if (dirty && !submitting && navigator.sendBeacon) { navigator.sendBeacon(form.dataset.autosave, body(true)); }
  });
  window.addEventListener("pageshow", function (event) { if (event.persisted) { window.location.reload(); } });
  setInterval(heartbeat, heartbeatMs);
  setInterval(tick, 1000);
})();
