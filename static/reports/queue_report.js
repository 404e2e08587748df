// Charts of the queue report, drawn from the same rows as the table (json_script "report-rows").
(function () {
  "use strict";
  const rowsNode = document.getElementById("report-rows");
  if (!rowsNode || typeof Chart === "undefined") return;
  const rows = JSON.parse(rowsNode.textContent);
  const labels = JSON.parse(document.getElementById("chart-labels").textContent);
  const colors = ["#0d6efd", "#198754", "#dc3545", "#fd7e14", "#6f42c1", "#20c997", "#6c757d"];

  function periodLabel(iso) {
    const text = iso.slice(0, 16).replace("T", " ");
    if (labels.interval === "hour") return text;
    if (labels.interval === "month") return text.slice(0, 7);
    return text.slice(0, 10);
  }

  const periods = [...new Set(rows.map((row) => row.period_start))];
  const queues = [...new Set(rows.map((row) => row.queue))];
  const byKey = new Map(rows.map((row) => [row.queue + "|" + row.period_start, row]));
  const x = periods.map(periodLabel);
  const sum = (field) => periods.map((period) =>
    queues.reduce((total, queue) => total + byKey.get(queue + "|" + period)[field], 0));
  const names = labels.queue_names || {};
  const nameOf = (queue) => names[queue] || queue;
  const perQueue = (field, scale) => queues.map((queue, i) => ({
    label: nameOf(queue),
    data: periods.map((period) => {
      const value = byKey.get(queue + "|" + period)[field];
      return value === null ? null : value * scale;
    }),
    borderColor: colors[i % colors.length],
    backgroundColor: colors[i % colors.length],
    spanGaps: true,
    tension: 0.2,
  }));
  const common = {animation: false, responsive: true, maintainAspectRatio: false,
                  interaction: {mode: "index", intersect: false}};

  new Chart(document.getElementById("chart-volume"), {
    type: "bar",
    data: {labels: x, datasets: [
      {label: labels.offered, data: sum("offered"), backgroundColor: "#adb5bd"},
      {label: labels.answered, data: sum("answered"), backgroundColor: "#198754"},
      {label: labels.abandoned, data: sum("abandoned"), backgroundColor: "#dc3545"},
    ]},
    options: common,
  });

  // The service-level threshold of each queue is the line ASA should stay under.
  const thresholds = queues.map((queue, i) => ({
    label: labels.threshold + " " + nameOf(queue),
    data: periods.map((period) => byKey.get(queue + "|" + period).service_level_seconds),
    borderColor: colors[i % colors.length],
    borderDash: [6, 4],
    pointRadius: 0,
    borderWidth: 1,
  }));
  new Chart(document.getElementById("chart-asa"), {
    type: "line",
    data: {labels: x, datasets: [...perQueue("asa_seconds", 1), ...thresholds]},
    options: {...common, scales: {y: {beginAtZero: true}}},
  });
  new Chart(document.getElementById("chart-sl"), {
    type: "line",
    data: {labels: x, datasets: perQueue("service_level", 100)},
    options: {...common, scales: {y: {beginAtZero: true, max: 100}}},
  });
  document.body.dataset.chartsReady = "true";
})();
