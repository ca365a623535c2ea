/*
 * The site navigation on a phone: collapsed behind the "Menu" button (satu.css shows the button
 * and hides the menu only under html.nav-js, so without this script the menu simply stays open).
 * Loaded in <head> without defer, so the class is set before the first paint (no jump).
 * Also closes an open drop-down (<details> in the navigation) on Escape or a click elsewhere.
 */
(function () {
  "use strict";
  document.documentElement.classList.add("nav-js");

  function groups() {
    return document.querySelectorAll(".site-nav details[open]");
  }

  function closeGroups(except) {
    groups().forEach(function (d) {
      if (d !== except) { d.removeAttribute("open"); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector(".nav-toggle");
    var menu = document.getElementById("site-menu");
    if (!toggle || !menu) { return; }
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("is-open", open);
    });
    document.querySelectorAll(".site-nav details").forEach(function (d) {
      d.addEventListener("toggle", function () { if (d.open) { closeGroups(d); } });
    });
    document.addEventListener("click", function (event) {
      var inside = event.target.closest ? event.target.closest(".site-nav details") : null;
      closeGroups(inside);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      var open = groups();
      if (open.length) {
        var summary = open[0].querySelector("summary");
        closeGroups(null);
        if (summary) { summary.focus(); }
      } else if (menu.classList.contains("is-open")) {
        toggle.click();
        toggle.focus();
      }
    });
  });
}());
