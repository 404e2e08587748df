// Small behaviours every page may use, kept out of the HTML so that the Content-Security-Policy
// can forbid inline scripts and style attributes.
(function () {
  "use strict";
  // <select data-submit-on-change>: choosing an option submits its form (the language menu).
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // data-width-percent="42": a bar as wide as that share of its container (report bars).
  document.querySelectorAll("[data-width-percent]").forEach(function (bar) {
    bar.style.width = bar.dataset.widthPercent + "%";
  });
})();
