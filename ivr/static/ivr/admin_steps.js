// Flow admin: show each step's fields for its kind only (the kinds' fields come from the page),
// and let every target list name a step added on the page before it is saved ("name (new)",
// value "new:<name>"), or add one from the list ("New step…").
(function () {
  "use strict";
  var NEW = "new:";
  var ADD = "__add_step__";
  var TARGETS = "select[name$='-next_step'], select[name$='-no_input_step'], " +
    "select[name$='-open_step'], select[name$='-closed_step'], " +
    "select[name^='options-'][name$='-target'], select[name='start_step']";
  var MENUS = "select[name^='options-'][name$='-step']";
  var rowCount = 0;

  function jsonFrom(id) {
    var node = document.getElementById(id);
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

  // Step rows added on this page (not stored yet): their name, kind and a stable key.
  function newRows() {
    var rows = [];
    document.querySelectorAll(".ivr-steps .inline-related:not(.empty-form)").forEach(function (row) {
      var id = row.querySelector("input[name$='-id']");
      var name = row.querySelector("input[name$='-name']");
      var remove = row.querySelector("input[name$='-DELETE']");
      if (!name || (id && id.value) || (remove && remove.checked)) { return; }
      if (!row.dataset.ivrRow) { rowCount += 1; row.dataset.ivrRow = "r" + rowCount; }
      var kind = row.querySelector("select[name$='-kind']");
      rows.push({key: row.dataset.ivrRow, name: name.value.trim(), kind: kind ? kind.value : ""});
    });
    return rows;
  }

  function refreshSelect(select, rows, label, addLabel, menusOnly) {
    var wanted = rows.filter(function (r) { return r.name && (!menusOnly || r.kind === "menu"); });
    var keys = wanted.map(function (r) { return r.key; });
    Array.prototype.slice.call(select.options).forEach(function (option) {
      // A choice the server kept from a refused save: bind it to its row by name.
      if (!option.dataset.ivrRow && option.value.indexOf(NEW) === 0) {
        var match = rows.filter(function (r) { return NEW + r.name === option.value; })[0];
        if (match) { option.dataset.ivrRow = match.key; }
      }
      if (option.dataset.ivrRow && keys.indexOf(option.dataset.ivrRow) === -1) { option.remove(); }
    });
    wanted.forEach(function (r) {
      var option = select.querySelector("option[data-ivr-row='" + r.key + "']");
      if (!option) {
        option = document.createElement("option");
        option.dataset.ivrRow = r.key;
        var add = select.querySelector("option[value='" + ADD + "']");
        select.insertBefore(option, add);
      }
      option.value = NEW + r.name;
      option.textContent = label.replace("%(name)s", r.name);
    });
    if (!menusOnly && !select.querySelector("option[value='" + ADD + "']")) {
      var add = document.createElement("option");
      add.value = ADD;
      add.textContent = addLabel;
      select.appendChild(add);
    }
    if (select.dataset.ivrWaitsFor) {
      var row = select.querySelector("option[data-ivr-row='" + select.dataset.ivrWaitsFor + "']");
      if (row) { select.value = row.value; delete select.dataset.ivrWaitsFor; }
    }
  }

  function refreshTargets(labels) {
    var rows = newRows();
    document.querySelectorAll(TARGETS).forEach(function (select) {
      if (select.closest(".empty-form")) { return; }
      refreshSelect(select, rows, labels.item, labels.add, false);
    });
    document.querySelectorAll(MENUS).forEach(function (select) {
      if (select.closest(".empty-form")) { return; }
      refreshSelect(select, rows, labels.item, labels.add, true);
    });
  }

  // "New step…" in a target list: add a step row, and choose it here once it has a name.
  function addStepFor(select, labels) {
    select.value = select.dataset.ivrPrevious || "";
    var link = document.querySelector(".ivr-steps .add-row a");
    if (!link) { return; }
    link.click();
    var rows = document.querySelectorAll(".ivr-steps .inline-related:not(.empty-form)");
    var row = rows[rows.length - 1];
    newRows();
    select.dataset.ivrWaitsFor = row.dataset.ivrRow;
    var name = row.querySelector("input[name$='-name']");
    if (name) { name.focus(); row.scrollIntoView({block: "center"}); }
    refreshTargets(labels);
  }

  function init() {
    var map = jsonFrom("ivr-kind-fields");
    if (!map) { return; }
    var labels = jsonFrom("ivr-new-step-labels") || {item: "%(name)s (new)", add: "New step…"};
    var names = allFields(map);
    document.querySelectorAll(".ivr-steps .inline-related").forEach(function (stepForm) {
      update(stepForm, map, names);
    });
    refreshTargets(labels);
    document.addEventListener("focusin", function (event) {
      if (event.target.matches && event.target.matches(TARGETS)) {
        event.target.dataset.ivrPrevious = event.target.value;
      }
    });
    document.addEventListener("change", function (event) {
      var target = event.target;
      if (target.matches("select[name$='-kind']")) {
        update(target.closest(".inline-related"), map, names);
        refreshTargets(labels);
      } else if (target.matches(TARGETS) && target.value === ADD) {
        addStepFor(target, labels);
      } else if (target.matches(TARGETS)) {
        delete target.dataset.ivrWaitsFor;
      } else if (target.matches("input[name$='-DELETE']")) {
        refreshTargets(labels);
      }
    });
    document.addEventListener("input", function (event) {
      if (event.target.matches("input[name^='steps-'][name$='-name']")) { refreshTargets(labels); }
    });
    document.addEventListener("formset:added", function (event) {
      update(event.target, map, names);
      refreshTargets(labels);
    });
    document.addEventListener("formset:removed", function () { refreshTargets(labels); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
