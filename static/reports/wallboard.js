// Wallboard: polls /api/wallboard/ (and the page's own today figures: overflow) and updates the
// numbers in place (no page reload). A queue warns — colour, and a line of text with an icon —
// when today's service level is under its target or a caller has waited past its alert time.
(function () {
  "use strict";
  const board = document.getElementById("wallboard");
  if (!board) return;
  const url = board.dataset.url;
  const todayUrl = board.dataset.todayUrl;
  const every = parseInt(board.dataset.intervalMs, 10) || 3000;
  const updated = document.getElementById("wb-updated");

  function clock(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const m = Math.floor(seconds / 60);
    const s = seconds % 60;
    return m + ":" + String(s).padStart(2, "0");
  }
  function percent(value) {
    return value === null || value === undefined ? "–" : (value * 100).toFixed(1) + " %";
  }
  function flag(section, name, on) {
    const node = section.querySelector('[data-flag="' + name + '"]');
    if (node) node.hidden = !on;
  }

  function warn(section, row) {
    const target = parseInt(section.dataset.slTarget, 10);
    const alertAfter = parseInt(section.dataset.waitAlert, 10);
    const slLow = row.service_level !== null && row.service_level * 100 < target;
    const waitLong = row.longest_wait_seconds !== null && row.longest_wait_seconds > alertAfter;
    flag(section, "sl_low", slLow);
    flag(section, "wait_long", waitLong);
    section.classList.toggle("wb-warning", slLow || waitLong);
    section.querySelector('[data-field="service_level"]').classList.toggle("wb-late", slLow);
    section.querySelector('[data-field="longest_wait_seconds"]').classList.toggle("wb-late", waitLong);
  }

  function render(data, today) {
    const extra = {};
    for (const row of (today && today.rows) || []) extra[row.queue] = row;
    for (const row of data.rows) {
      const section = board.querySelector('[data-queue="' + CSS.escape(row.queue) + '"]');
      if (!section) { window.location.reload(); return; } // a queue was added
      const merged = Object.assign({}, row, extra[row.queue] || {});
      for (const cell of section.querySelectorAll("[data-field]")) {
        const value = merged[cell.dataset.field];
        if (value === undefined) continue; // the today figures did not come this time
        const format = cell.dataset.format;
        const text = format === "clock" ? clock(value) : format === "percent" ? percent(value) : String(value);
        cell.querySelector(".wb-value").textContent = text;
        if (cell.dataset.field === "waiting") cell.classList.toggle("wb-alert", value > 0);
      }
      warn(section, row);
    }
    updated.textContent = data.at.slice(11, 19);
    updated.classList.remove("wb-stale");
    board.dataset.refreshedAt = data.at;
  }

  async function getJson(address) {
    const response = await fetch(address, {headers: {Accept: "application/json"}, credentials: "same-origin"});
    if (!response.ok) throw new Error(response.status);
    return response.json();
  }

  async function poll() {
    try {
      const [data, today] = await Promise.all([
        getJson(url),
        todayUrl ? getJson(todayUrl).catch(() => null) : Promise.resolve(null),
      ]);
      render(data, today);
    } catch (error) {
      updated.textContent = updated.dataset.staleText;
      updated.classList.add("wb-stale");
    }
    window.setTimeout(poll, every);
  }
  window.setTimeout(poll, every);
})();
