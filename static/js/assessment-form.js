/* Assessment form: autosave on change, tolerant of a flaky connection.
 *
 * Every change is posted to the form's save URL in the background; the page is
 * never reloaded, so what was typed stays on screen whether or not the save
 * worked. A copy is kept in localStorage until the server has it, and restored
 * if the page is opened again before it was saved. Without JavaScript the form
 * still works: "Simpan draf" posts it normally.
 */
(function () {
  "use strict";
  var form = document.getElementById("assessment-form");
  if (!form || !window.fetch || !window.FormData) return;
  var status = document.getElementById("save-status");
  var key = form.dataset.storageKey;
  var timer = null;
  var leaving = false;
  var inflight = false;
  var again = false;
  var retryDelay = 3000;

  function show(text, kind) {
    if (!status) return;
    status.textContent = text;
    status.className = kind === "bad" ? "alert alert-error" : kind === "ok" ? "alert alert-success" : "muted";
  }

  function snapshot() {
    var out = {};
    new FormData(form).forEach(function (value, name) {
      if (name === "csrfmiddlewaretoken") return;
      (out[name] = out[name] || []).push(value);
    });
    return out;
  }

  function keepLocal() {
    try { localStorage.setItem(key, JSON.stringify(snapshot())); } catch (e) { /* storage full or off */ }
  }

  function dropLocal() {
    try { localStorage.removeItem(key); } catch (e) { /* ignore */ }
  }

  function restoreLocal() {
    var saved;
    try { saved = JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { saved = null; }
    if (!saved) return false;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.type === "hidden") return;
      var values = saved[el.name] || [];
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = values.indexOf(el.value) !== -1;
      } else if (el.type !== "submit" && el.type !== "file") {
        el.value = values.length ? values[0] : "";
      }
    });
    return true;
  }

  // The server's errors next to their questions: the message in the question's error box
  // (which aria-describedby names), the inputs marked aria-invalid.
  function markErrors(errors) {
    form.querySelectorAll("[data-error-for]").forEach(function (box) {
      var message = errors[box.dataset.errorFor] || "";
      var field = box.parentElement;
      box.textContent = message;
      field.classList.toggle("field-error", Boolean(message));
      field.querySelectorAll("input:not([type=hidden]), textarea, select").forEach(function (input) {
        if (message) {
          input.setAttribute("aria-invalid", "true");
        } else {
          input.removeAttribute("aria-invalid");
        }
        if (input.closest("fieldset")) return;  // the fieldset names the box for its group
        var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
          return id && id !== box.id;
        });
        if (message) ids.push(box.id);
        if (ids.length) {
          input.setAttribute("aria-describedby", ids.join(" "));
        } else {
          input.removeAttribute("aria-describedby");
        }
      });
    });
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(save, ms);
  }

  function save() {
    if (leaving) return;
    if (inflight) { again = true; return; }
    inflight = true;
    show(form.dataset.msgSaving, "muted");
    var data = new FormData(form);
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRFToken": data.get("csrfmiddlewaretoken") || "" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok && body.ok) {
          dropLocal();
          markErrors({});
          retryDelay = 3000;
          show(form.dataset.msgSaved + (body.saved_at ? " " + body.saved_at : ""), "ok");
        } else if (response.status === 400) {
          // The server named what is wrong: keep the input, point at the question.
          markErrors(body.errors || {});
          show(body.detail || form.dataset.msgFailed, "bad");
        } else {
          throw new Error("HTTP " + response.status);
        }
      });
    }).catch(function () {
      // Offline or a server hiccup: the input stays, a copy is kept, try again later.
      keepLocal();
      show(form.dataset.msgFailed, "bad");
      retryDelay = Math.min(retryDelay * 2, 60000);
      schedule(retryDelay);
    }).then(function () {
      inflight = false;
      if (again) { again = false; schedule(300); }
    });
  }

  // A button's own submit ("Simpan draf", "Ajukan ke supervisor") carries every answer: no
  // autosave may race it (once submitted the draft is closed and a late save is refused), and
  // the local copy is no longer needed.
  form.addEventListener("submit", function () {
    leaving = true;
    clearTimeout(timer);
    dropLocal();
  });
  form.addEventListener("change", function () { keepLocal(); schedule(400); });
  form.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA" || event.target.type === "number") {
      keepLocal();
      schedule(1500);
    }
  });
  window.addEventListener("online", function () { schedule(200); });

  if (restoreLocal()) {
    show(form.dataset.msgRestored, "muted");
    schedule(500);
  }
})();
