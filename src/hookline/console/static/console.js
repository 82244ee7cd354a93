// Hookline console: the few behaviours htmx attributes do not cover. No inline script
// runs on these pages (the Content-Security-Policy forbids it), so they live here.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // The portal's accent colour, per account (checked on the server: #rrggbb).
  function accent() {
    var colour = document.body.getAttribute("data-accent");
    if (colour && /^#[0-9a-fA-F]{6}$/.test(colour)) {
      document.documentElement.style.setProperty("--accent", colour);
    }
  }

  // Parts of a page that follow new attempts: the server sends an event on the stream
  // named by data-live, and the part reloads itself (hx-trigger="live").
  var streams = [];
  function live(root) {
    root.querySelectorAll("[data-live]").forEach(function (el) {
      if (el.hookLive) return;
      el.hookLive = true;
      var source = new EventSource(el.getAttribute("data-live"));
      source.addEventListener("attempt", function () {
        if (window.htmx) window.htmx.trigger(el, "live");
      });
      streams.push(source);
    });
  }
  window.addEventListener("pagehide", function () {
    streams.forEach(function (s) { s.close(); });
  });

  // Forms that do something that cannot be undone ask first.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);

  // The trigger-rule builder: one row per condition, added and removed here; each row
  // is plain form fields, so the form also works without this script.
  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-rule]");
    if (add) {
      var list = document.getElementById(add.getAttribute("data-add-rule"));
      var template = document.getElementById("rule-row-template");
      if (list && template) {
        var row = template.content.firstElementChild.cloneNode(true);
        var n = list.children.length;
        row.querySelectorAll("[data-id]").forEach(function (el) {
          el.id = el.getAttribute("data-id") + "-" + n;
        });
        row.querySelectorAll("[data-for]").forEach(function (el) {
          el.setAttribute("for", el.getAttribute("data-for") + "-" + n);
        });
        list.appendChild(row);
        var first = row.querySelector("input, select");
        if (first) first.focus();
      }
      event.preventDefault();
      return;
    }
    var remove = event.target.closest("[data-remove-rule]");
    if (remove) {
      var item = remove.closest(".rule-row");
      if (item) item.remove();
      event.preventDefault();
    }
  });

  ready(function () {
    accent();
    live(document);
    document.body.addEventListener("htmx:afterSwap", function (e) { live(e.target); });
  });
})();
