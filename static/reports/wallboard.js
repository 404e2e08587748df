// Wallboard: polls /api/wallboard/ and updates the numbers in place (no page reload).
(function () {
  "use strict";
  const board = document.getElementById("wallboard");
  if (!board) return;
  const url = board.dataset.url;
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

  function render(data) {
    for (const row of data.rows) {
      const section = board.querySelector('[data-queue="' + CSS.escape(row.queue) + '"]');
      if (!section) { window.location.reload(); return; } // a queue was added
      for (const cell of section.querySelectorAll("[data-field]")) {
        const value = row[cell.dataset.field];
        const format = cell.dataset.format;
        const text = format === "clock" ? clock(value) : format === "percent" ? percent(value) : String(value);
        cell.querySelector(".wb-value").textContent = text;
        if (cell.dataset.field === "waiting") cell.classList.toggle("wb-alert", value > 0);
        if (format === "clock") {
          cell.classList.toggle("wb-late", value !== null && value > parseInt(cell.dataset.threshold, 10));
        }
      }
    }
    updated.textContent = data.at.slice(11, 19);
    updated.classList.remove("wb-stale");
    board.dataset.refreshedAt = data.at;
  }

  async function poll() {
    try {
      const response = await fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"});
      if (!response.ok) throw new Error(response.status);
      render(await response.json());
    } catch (error) {
      updated.textContent = updated.dataset.staleText;
      updated.classList.add("wb-stale");
    }
    window.setTimeout(poll, every);
  }
  window.setTimeout(poll, every);
})();
