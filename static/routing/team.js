// Team view: polls the page's JSON every few seconds and redraws the agents and queues tables
// in place (no page reload), like the wallboard.
(function () {
  "use strict";
  const board = document.getElementById("team");
  if (!board) return;
  const url = board.dataset.url;
  const every = parseInt(board.dataset.intervalMs, 10) || 3000;
  const updated = document.getElementById("team-updated");
  const csrf = board.querySelector("input[name=csrfmiddlewaretoken]").value;
  const message = document.getElementById("team-message");
  const session = document.getElementById("team-session");
  let ownId = null;

  function say(text) {
    message.textContent = text || "";
    message.hidden = !text;
  }

  async function post(address, fields) {
    const body = new URLSearchParams(fields || {});
    const response = await fetch(address, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": csrf, Accept: "application/json"},
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || String(response.status));
    return data;
  }

  function showSession(monitoring) {
    session.hidden = !monitoring;
    // "Answer the call on your softphone" is said until the softphone answers (or the call ends).
    if ((!monitoring || monitoring.answered) && message.textContent === board.dataset.ringingText) {
      say("");
    }
    if (!monitoring) return;
    document.getElementById("team-session-agent").textContent = monitoring.agent;
    for (const button of session.querySelectorAll("[data-mode]")) {
      button.classList.toggle("active", button.dataset.mode === monitoring.mode);
    }
  }

  board.addEventListener("click", async (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    try {
      if (button.dataset.monitor) {
        const address = board.dataset.startUrl.replace(/0$/, button.dataset.monitor);
        const data = await post(address, {mode: button.dataset.mode});
        showSession(data.monitoring);
        say(board.dataset.ringingText);
      } else if (button.id === "team-leave") {
        showSession((await post(board.dataset.leaveUrl)).monitoring);
        say("");
      } else if (button.dataset.mode && session.contains(button)) {
        showSession((await post(board.dataset.modeUrl, {mode: button.dataset.mode})).monitoring);
        say("");
      }
    } catch (error) {
      say(error.message);
    }
  });

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
      const actions = cell("");
      if (agent.call && board.dataset.softphone && agent.id !== ownId) {
        const group = document.createElement("div");
        group.className = "btn-group btn-group-sm";
        for (const mode of ["listen", "whisper", "barge"]) {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "btn btn-outline-secondary";
          button.dataset.monitor = agent.id;
          button.dataset.mode = mode;
          button.textContent = board.dataset[mode + "Text"];
          group.appendChild(button);
        }
        actions.appendChild(group);
      }
      tr.appendChild(actions);
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
      ownId = data.softphone_agent_id;
      renderAgents(data.agents);
      showSession(data.monitoring);
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
