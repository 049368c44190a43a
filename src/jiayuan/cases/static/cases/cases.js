/* Case pages: geolocation on the report form, one submit per form, response templates,
   select-all for bulk actions. No inline script (CSP). */
(function () {
  "use strict";

  function reportForm() {
    var form = document.getElementById("report-form");
    if (!form) { return; }
    var button = document.getElementById("use-location");
    var status = document.getElementById("geo-status");
    if (button && status) {
      if (!("geolocation" in navigator)) { button.hidden = true; }
      button.addEventListener("click", function () {
        status.textContent = button.dataset.locating;
        navigator.geolocation.getCurrentPosition(function (pos) {
          // The browser's Geolocation API reports WGS-84.
          form.querySelector("[name=lng]").value = pos.coords.longitude.toFixed(6);
          form.querySelector("[name=lat]").value = pos.coords.latitude.toFixed(6);
          status.textContent = button.dataset.located;
          button.setAttribute("data-located-ok", "1");
        }, function () {
          status.textContent = button.dataset.failed;
        }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
      });
    }
  }

  function oneSubmit() {
    // A double tap sends one request; the server is idempotent on the form's key anyway.
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (form.dataset.sent === "1") { ev.preventDefault(); return; }
        form.dataset.sent = "1";
        var b = form.querySelector("button[type=submit]");
        if (b && b.dataset.busy) { b.textContent = b.dataset.busy; }
      });
    });
  }

  function templates(root) {
    root.querySelectorAll("select.template-picker").forEach(function (sel) {
      sel.addEventListener("change", function () {
        var opt = sel.options[sel.selectedIndex];
        var target = document.getElementById(sel.dataset.target);
        if (target && opt && opt.dataset.body) { target.value = opt.dataset.body; target.focus(); }
      });
    });
  }

  function selectAll() {
    document.addEventListener("change", function (ev) {
      var box = ev.target;
      if (!box.classList || !box.classList.contains("select-all")) { return; }
      var form = box.closest("form");
      form.querySelectorAll("input[type=checkbox][name=" + box.dataset.target + "]")
        .forEach(function (c) { c.checked = box.checked; });
    });
  }

  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (b) {
      if (!navigator.clipboard) { b.hidden = true; return; }
      b.addEventListener("click", function () {
        var text = document.getElementById(b.dataset.copy).textContent.trim();
        navigator.clipboard.writeText(text).then(function () { b.textContent = b.dataset.copied; });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    copyButtons();
    reportForm();
    oneSubmit();
    templates(document);
    selectAll();
  });
})();
