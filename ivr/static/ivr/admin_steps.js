// Flow admin: show each step's fields for its kind only (the kinds' fields come from the page).
(function () {
  "use strict";
  function kindFields() {
    var node = document.getElementById("ivr-kind-fields");
    return node ? JSON.parse(node.textContent) : null;
  }
  function allFields(map) {
    var names = {};
    Object.keys(map).forEach(function (kind) {
      map[kind].forEach(function (name) { names[name] = true; });
    });
    return Object.keys(names);
  }
  function update(stepForm, map, names) {
    var select = stepForm.querySelector("select[name$='-kind']");
    if (!select) { return; }
    var shown = map[select.value] || [];
    names.forEach(function (name) {
      var row = stepForm.querySelector(".form-row.field-" + name) ||
        stepForm.querySelector(".fieldBox.field-" + name);
      if (row) { row.hidden = shown.indexOf(name) === -1; }
    });
  }
  function init() {
    var map = kindFields();
    if (!map) { return; }
    var names = allFields(map);
    var forms = function () { return document.querySelectorAll(".ivr-steps .inline-related"); };
    forms().forEach(function (stepForm) { update(stepForm, map, names); });
    document.addEventListener("change", function (event) {
      if (event.target.matches("select[name$='-kind']")) {
        update(event.target.closest(".inline-related"), map, names);
      }
    });
    document.addEventListener("formset:added", function (event) {
      update(event.target, map, names);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
