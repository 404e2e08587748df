// Team view: polls the page's JSON every few seconds and redraws the agents and queues tables
// in place (no page reload), like the wallboard.
(function () {
  "use strict";
  const board = document.getElementById("team");
  if (!board) return;
  const url = board.dataset.url;
  const every = parseInt(board.dataset.intervalMs, 10) || 3000;
  const updated = document.getElementById("team-updated");

  function cell(text, field) {
    const td = document.createElement("td");
    if (field) td.dataset.field = field;
    td.textContent = text === null || text === undefined ? "" : String(text);
    return td;
  }

  function renderAgents(rows) {
    const body = document.getElementById("team-agents");
    const fresh = document.createDocumentFragment();
    for (const agent of rows) {
      const tr = document.createElement("tr");
      tr.dataset.agent = agent.identity;
      const who = cell(agent.name + " ");
      const small = document.createElement("small");
      small.className = "text-body-secondary";
      small.textContent = agent.identity;
      who.appendChild(small);
      tr.appendChild(who);
      tr.appendChild(cell(agent.status_label, "status"));
      tr.appendChild(cell(agent.status_clock, "status_seconds"));
      const call = agent.call || {};
      tr.appendChild(cell(call.phone_number, "phone_number"));
      tr.appendChild(cell(call.customer_name, "customer_name"));
      tr.appendChild(cell(call.queue ? call.queue.name : "", "queue"));
      tr.appendChild(cell(agent.call ? call.duration_clock : "", "duration_seconds"));
      const hold = agent.call ? (call.on_hold ? board.dataset.onHoldText : board.dataset.talkingText) : "";
      tr.appendChild(cell(hold, "on_hold"));
      fresh.appendChild(tr);
    }
    body.replaceChildren(fresh);
  }

  function renderQueues(rows) {
    const body = document.getElementById("team-queues");
    const fresh = document.createDocumentFragment();
    for (const queue of rows) {
      const tr = document.createElement("tr");
      tr.dataset.queue = queue.slug;
      tr.appendChild(cell(queue.name));
      tr.appendChild(cell(queue.waiting, "waiting"));
      tr.appendChild(cell(queue.longest_wait_clock, "longest_wait_seconds"));
      fresh.appendChild(tr);
    }
    body.replaceChildren(fresh);
  }

  async function poll() {
    try {
      const response = await fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"});
      if (!response.ok) throw new Error(response.status);
      const data = await response.json();
      renderAgents(data.agents);
      renderQueues(data.queues);
      updated.textContent = data.at.slice(11, 19);
      updated.classList.remove("text-danger");
    } catch (error) {
      updated.textContent = updated.dataset.staleText;
      updated.classList.add("text-danger");
    }
    window.setTimeout(poll, every);
  }
  window.setTimeout(poll, every);
})();
