/* Tsunagu softphone: Twilio Voice JavaScript SDK 2.x, presence, queues, screen-pop, notes.
 *
 * The page talks to the app through small JSON endpoints (URLs in data- attributes of
 * #softphone) and to Twilio through Twilio.Device. The sentences shown come translated from
 * the server in the #softphone-texts JSON block; a few labels through Django's JavaScript
 * catalog (gettext).
 */
(function () {
  "use strict";

  var root = document.getElementById("softphone");
  if (!root) return;
  var T = JSON.parse(document.getElementById("softphone-texts").textContent);
  var urls = root.dataset;
  var csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  var $ = function (id) { return document.getElementById(id); };

  var STATE_POLL_MS = 3000;
  // Twilio answers a registration within seconds; past this the softphone says it cannot connect.
  var REGISTER_TIMEOUT_MS = 15000;
  var POP_RETRY_MS = 1500;
  var POP_MAX_TRIES = 40;
  // How a menu answer went, shown after the step in the screen-pop's IVR path.
  var OUTCOMES = { invalid: gettext("invalid key"), "no-input": gettext("no input") };

  var device = null;
  var call = null;          // the Twilio Call in hand (ringing in, or connected)
  var callStartedAt = null;
  var timerHandle = null;
  var pop = null;           // the screen-pop data of the current / last call
  var popTries = 0;
  var popHandle = null;
  var lastStatus = null;
  var deviceProblem = null; // why the softphone cannot take calls: {key, text}, or null
  var registerTimer = null;

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, name) {
      return values[name] === undefined ? "" : values[name];
    });
  }

  function clock(totalSeconds) {
    var s = Math.max(0, Math.floor(totalSeconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var mm = (m < 10 ? "0" : "") + m, ss = (r < 10 ? "0" : "") + r;
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  // --- Messages: one line per problem, replaced when the same problem comes again.
  function showMessage(key, text, kind) {
    var box = $("messages");
    var existing = box.querySelector('[data-key="' + key + '"]');
    if (existing) existing.remove();
    var div = document.createElement("div");
    div.className = "alert alert-" + (kind || "danger") + " py-2 alert-dismissible";
    div.setAttribute("role", "alert");
    div.dataset.key = key;
    div.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("aria-label", gettext("Close"));
    close.addEventListener("click", function () { div.remove(); });
    div.appendChild(close);
    box.appendChild(div);
  }

  function clearMessage(key) {
    var existing = $("messages").querySelector('[data-key="' + key + '"]');
    if (existing) existing.remove();
  }

  // --- Talking to the app
  function request(method, url, data) {
    var options = { method: method, credentials: "same-origin", headers: { "X-CSRFToken": csrf } };
    if (data) {
      options.body = new URLSearchParams(data);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          var error = new Error(body.error || T.requestFailed);
          error.status = response.status;
          throw error;
        }
        return body;
      });
    }, function () {
      throw new Error(T.requestFailed);
    });
  }

  function fetchToken() {
    return request("GET", urls.tokenUrl).then(function (body) { return body.token; });
  }

  // --- Device
  function setDeviceState(state, label) {
    var badge = $("device-state");
    badge.dataset.state = state;
    badge.textContent = label;
    badge.className = "badge " + ({
      registered: "text-bg-success", unregistered: "text-bg-warning", unreachable: "text-bg-danger",
      error: "text-bg-danger"
    }[state] || "text-bg-secondary");
  }

  // Each reason the softphone cannot take calls: the badge, and one true sentence.
  function deviceFails(state, label, key, message, kind) {
    clearTimeout(registerTimer);
    setDeviceState(state, label);
    deviceProblem = { key: key, text: message, kind: kind || "danger" };
    showMessage(key, message, kind);
  }

  // The app counts an agent available only while the softphone is registered with Twilio.
  function reportDevice(state) {
    request("POST", urls.deviceUrl, { state: state }).then(function () {
      clearMessage("device-report");
    }, function (error) { showMessage("device-report", error.message, "warning"); });
  }

  function isConnectionError(error) {
    var code = error && error.code;
    return code === 31005 || code === 31009 || code === 53000 || code === 31000 ||
      code === 53001 || code === 31003;
  }

  function explainError(error) {
    var code = error && error.code;
    var name = error && (error.name || "");
    if (code === 20101 || code === 20104 || code === 31204 || code === 31205 || /TokenExpired/.test(name)) {
      showMessage("token", T.tokenExpired);
    } else if (code === 31208 || code === 31401 || code === 31402 || code === 31201 ||
               /Permission|NotAllowed|NotFound|UserMedia/.test(name)) {
      showMessage("microphone", T.noMicrophone);
    } else if (isConnectionError(error)) {
      var state = $("device-state").dataset.state;
      if (state === "starting" || state === "unreachable") {  // never got through to Twilio
        deviceFails("unreachable", T.deviceUnreachable, "offline", T.twilioUnreachable);
      } else {
        showMessage("offline", T.deviceOffline);
      }
    } else {
      showMessage("call", fmt(T.callFailed, { message: (error && error.message) || code || "" }));
    }
  }

  function startDevice() {
    if (!window.Twilio || !window.Twilio.Device) {
      deviceFails("error", T.deviceError, "device", T.sdkMissing);
      return;
    }
    fetchToken().then(function (token) {
      device = new window.Twilio.Device(token, { closeProtection: true, tokenRefreshMs: 60000 });
      device.on("registered", function () {
        clearTimeout(registerTimer);
        deviceProblem = null;
        setDeviceState("registered", T.deviceRegistered);
        clearMessage("offline");
        clearMessage("token");
        reportDevice("registered");
      });
      device.on("unregistered", function () {
        setDeviceState("unregistered", T.deviceUnregistered);
        deviceProblem = { key: "offline", text: T.deviceOffline, kind: "warning" };
        showMessage("offline", T.deviceOffline, "warning");
        reportDevice("unregistered");
      });
      device.on("error", function (error) {
        if (error && (error.code === 20104 || error.code === 31205)) setDeviceState("error", T.deviceError);
        explainError(error);
      });
      device.on("tokenWillExpire", function () {
        fetchToken().then(function (fresh) { device.updateToken(fresh); }, function () {
          showMessage("token", T.tokenExpired);
        });
      });
      device.on("incoming", onIncoming);
      registerTimer = setTimeout(function () {
        if ($("device-state").dataset.state === "starting") {
          deviceFails("unreachable", T.deviceUnreachable, "offline", T.twilioUnreachable);
        }
      }, REGISTER_TIMEOUT_MS);
      Promise.resolve(device.register()).catch(explainError);
    }, function (error) {
      if (error.status === 401) {
        deviceFails("error", T.deviceError, "token", T.tokenExpired);
      } else if (error.status === 503) {  // the server says what is missing
        deviceFails("error", T.deviceNotConfigured, "device", error.message);
      } else {
        deviceFails("error", T.deviceError, "device", error.message);
      }
    });
  }

  function deviceReady() {
    var state = $("device-state").dataset.state;
    if (!device || device.state === "destroyed" || state !== "registered") {
      if (deviceProblem) {
        showMessage(deviceProblem.key, deviceProblem.text, deviceProblem.kind);
      } else {  // still starting: Twilio has not answered yet
        showMessage("offline", T.deviceStillStarting, "warning");
      }
      return false;
    }
    if (call) {
      showMessage("busy", T.busy, "warning");
      return false;
    }
    return true;
  }

  // --- Calls
  function bindCall(c, label) {
    call = c;
    $("call-peer").textContent = label;
    c.on("accept", onAccept);
    c.on("disconnect", onEnded);
    c.on("cancel", onEnded);
    c.on("reject", onEnded);
    c.on("error", explainError);
  }

  function onIncoming(c) {
    if (call) {  // one call at a time: a second one is turned away
      c.reject();
      return;
    }
    var from = (c.parameters && c.parameters.From) || "";
    bindCall(c, fmt(T.callFrom, { from: from }));
    $("incoming-from").textContent = fmt(T.callFrom, { from: from });
    $("incoming-offer").hidden = true;
    $("incoming").hidden = false;
    c.on("cancel", function () { if (c.offer) showMessage("offer", T.withdrawn, "info"); });
    loadOffer(c);
  }

  // A call the app pushed to this agent (push routing): who is calling, before accepting. The
  // ring can reach the softphone a moment before the app has noted which ring it is (the
  // answer of calls.create): asked again, a few times, while it still rings.
  var OFFER_TRIES = 10;
  var OFFER_RETRY_MS = 500;

  function loadOffer(c, tries) {
    var sid = (c.parameters && c.parameters.CallSid) || "";
    if (!sid || !urls.offerUrl) return;
    tries = tries || 1;
    request("GET", urls.offerUrl + "?" + new URLSearchParams({ call_sid: sid })).then(function (body) {
      var offer = body.offer;
      if (call !== c) return;
      if (!offer) {
        if (tries < OFFER_TRIES && !$("incoming").hidden) {
          setTimeout(function () { loadOffer(c, tries + 1); }, OFFER_RETRY_MS);
        }
        return;
      }
      c.offer = offer;
      clearMessage("offer");
      $("offer-customer").textContent = offer.customer ? offer.customer.name : T.unknownCustomer;
      $("offer-vip").hidden = !offer.vip;
      $("offer-queue").textContent = offer.queue.name;
      $("offer-wait").textContent = clock(offer.wait_seconds);
      $("offer-path").textContent = offer.ivr_path.map(function (step) {
        return step.digits ? step.step + " (" + step.digits + ")" : step.step;
      }).join(" → ");
      $("incoming-from").textContent = fmt(T.callFrom, { from: offer.phone_number });
      $("incoming-offer").hidden = false;
      if (offer.auto_answer && offer.outcome === "ringing") c.accept();
    }, function () { /* not a pushed call, or the server is away: the plain ring stays */ });
  }

  function onAccept() {
    $("incoming").hidden = true;
    $("call-panel").hidden = false;
    $("idle-hint").hidden = true;
    $("dtmf-sent").textContent = "";
    setMuted(false);
    setHeld(false);
    $("consult-controls").hidden = true;
    callStartedAt = Date.now();
    clearInterval(timerHandle);
    $("call-timer").textContent = clock(0);
    timerHandle = setInterval(function () {
      $("call-timer").textContent = clock((Date.now() - callStartedAt) / 1000);
    }, 1000);
    pop = null;
    popTries = 0;
    $("note-saved").hidden = true;
    loadScreenPop();
    watchRecording(true);
    lastEndedId = null;
    watchParties(true);
    refreshState();
  }

  function onEnded() {
    $("incoming").hidden = true;
    $("call-panel").hidden = true;
    $("idle-hint").hidden = false;
    clearInterval(timerHandle);
    call = null;
    watchRecording(false);
    watchParties(false);
    refreshState();
  }

  function takeNext(slug) {
    if (!deviceReady()) return;
    connect({ To: "queue:" + slug }, fmt(T.queueCall, { queue: slug }));
  }

  function connect(params, label) {
    clearMessage("busy");
    var pending = device.connect({ params: params });
    Promise.resolve(pending).then(function (c) { bindCall(c, label); }, explainError);
  }

  function dialNumber(event) {
    event.preventDefault();
    var raw = $("dial-to").value.trim();
    if (!raw) {
      showMessage("dial", T.noNumber, "warning");
      return;
    }
    if (!deviceReady()) return;
    request("GET", urls.dialCheckUrl + "?" + new URLSearchParams({ to: raw })).then(function (body) {
      if (!body.allowed) {
        showMessage("dial", body.error || T.refused);
        return;
      }
      clearMessage("dial");
      connect({ To: body.to }, fmt(T.outbound, { to: body.to }));
    }, function (error) { showMessage("dial", error.message); });
  }

  // Hold (the app asks Twilio to hold the caller in the conference; the device stays as it is,
  // so the real SDK and the emulated softphone take the same path).
  function setHeld(held) {
    var button = $("hold-btn");
    button.textContent = held ? gettext("Resume") : gettext("Hold");
    button.setAttribute("aria-pressed", held ? "true" : "false");
    button.classList.toggle("active", held);
    $("hold-state").hidden = !held;
  }

  function toggleHold() {
    var button = $("hold-btn");
    var held = button.getAttribute("aria-pressed") === "true";
    button.disabled = true;
    request("POST", held ? urls.resumeUrl : urls.holdUrl).then(function (body) {
      clearMessage("hold");
      setHeld(body.on_hold);
    }, function (error) {
      showMessage("hold", error.message);
    }).then(function () { button.disabled = false; });
  }

  // Recording (queues that record answered calls): "recording" or "recording paused", and a
  // button to pause it while the caller gives payment details. Asked every few seconds: the
  // recording starts once the caller is bridged.
  var recordingHandle = null;

  function setRecording(state) {
    var badge = $("recording-state");
    badge.dataset.state = state;
    $("recording-line").hidden = !state;
    badge.textContent = state === "paused" ? gettext("recording paused") : gettext("recording");
    badge.classList.toggle("text-bg-danger", state === "recording");
    badge.classList.toggle("text-bg-secondary", state === "paused");
    $("recording-btn").textContent = state === "paused"
      ? gettext("Resume recording") : gettext("Pause recording");
  }

  function refreshRecording() {
    if (!call || !urls.recordingUrl) return;
    request("GET", urls.recordingUrl).then(function (body) { setRecording(body.recording); },
      function () { /* asked again shortly */ });
  }

  function watchRecording(on) {
    clearInterval(recordingHandle);
    setRecording("");
    if (on) {
      refreshRecording();
      recordingHandle = setInterval(refreshRecording, 5000);
    }
  }

  function toggleRecording() {
    var button = $("recording-btn");
    var paused = $("recording-state").dataset.state === "paused";
    button.disabled = true;
    request("POST", urls.recordingUrl + (paused ? "/resume" : "/pause")).then(function (body) {
      clearMessage("recording");
      setRecording(body.recording);
    }, function (error) {
      showMessage("recording", error.message);
    }).then(function () { button.disabled = false; });
  }

  // Cold transfer to a queue: the app takes the caller out of the call into that queue; this
  // agent's leg then ends by itself (the device's disconnect closes the call panel).
  function transferToQueue(event) {
    event.preventDefault();
    transfer($("transfer-btn"), { queue: $("transfer-queue").value });
  }

  // Cold transfer to an outside number, under the same rules as the dial box (checked by the app).
  function transferToNumber(event) {
    event.preventDefault();
    var number = $("transfer-number").value.trim();
    if (!number) {
      showMessage("transfer", T.noNumber, "warning");
      return;
    }
    transfer($("transfer-number-btn"), { number: number });
  }

  // Cold transfer to a colleague: their softphone rings; this call ends once they answer.
  function transferToAgent(event) {
    event.preventDefault();
    var identity = $("transfer-agent").value.trim();
    if (!identity) return;
    transfer($("transfer-agent-btn"), { agent: identity });
  }

  // Consult a colleague (the caller on hold meanwhile), then complete, three-way or cancel.
  function consult(action) {
    var target = action === "start" ? { agent: $("transfer-agent").value.trim() } : null;
    if (action === "start" && !target.agent) return;
    var url = urls.consultUrl + (action === "start" ? "" : "/" + action);
    request("POST", url, target).then(function () {
      clearMessage("transfer");
      $("consult-controls").hidden = action !== "start";
      if (action === "start" || action === "cancel" || action === "join") {
        setHeld(action === "start");
      }
    }, function (error) { showMessage("transfer", error.message); });
  }

  // Who is in the call (the caller, colleagues, an outside number), asked every few seconds
  // during a call; in a call of three each other party has a Drop button. An outside number
  // (or a colleague) whose leg ended is said once: did not answer, or left.
  var PARTIES_POLL_MS = 2000;
  var partiesHandle = null;
  var lastEndedId = null;
  var ROLES = {
    caller: gettext("caller"), agent: gettext("agent"), outside: gettext("outside number")
  };
  var ENDINGS = {
    "no-answer": gettext("%(party)s did not answer."),
    busy: gettext("%(party)s is busy."),
    failed: gettext("%(party)s could not be called."),
    canceled: gettext("The call to %(party)s was stopped."),
    dropped: gettext("%(party)s was dropped from the call."),
    completed: gettext("%(party)s left the call.")
  };

  function renderParties(body) {
    var list = $("call-parties");
    list.textContent = "";
    var parties = body.parties || [];
    $("parties-box").hidden = parties.length < 3;
    parties.forEach(function (party) {
      var item = document.createElement("li");
      item.className = "d-flex align-items-center gap-2 mb-1 party";
      item.dataset.callSid = party.call_sid;
      item.dataset.state = party.state;
      var name = document.createElement("span");
      name.textContent = party.me ? gettext("You") : party.label + " (" + (ROLES[party.role] || party.role) + ")";
      item.appendChild(name);
      var state = document.createElement("span");
      state.className = "badge " + (party.state === "ringing" ? "text-bg-warning" : "text-bg-success");
      state.textContent = party.state === "ringing" ? gettext("ringing") : (party.on_hold ? gettext("on hold") : gettext("connected"));
      item.appendChild(state);
      if (party.can_drop) {
        var drop = document.createElement("button");
        drop.type = "button";
        drop.className = "btn btn-sm btn-outline-danger party-drop";
        drop.textContent = party.state === "ringing" ? gettext("Cancel") : gettext("Drop");
        drop.addEventListener("click", function () { dropParty(party.call_sid, drop); });
        item.appendChild(drop);
      }
      list.appendChild(item);
    });
    var ended = body.ended;
    if (ended && ended.id !== lastEndedId) {
      var sentence = ENDINGS[ended.status] || ENDINGS.completed;
      showMessage("party", fmt(sentence, { party: ended.label }), "info");
      lastEndedId = ended.id;
    }
  }

  function refreshParties() {
    if (!call || !urls.partiesUrl) return;
    request("GET", urls.partiesUrl).then(renderParties, function () { /* asked again shortly */ });
  }

  function watchParties(on) {
    clearInterval(partiesHandle);
    $("parties-box").hidden = true;
    $("call-parties").textContent = "";
    if (on) {
      refreshParties();
      partiesHandle = setInterval(refreshParties, PARTIES_POLL_MS);
    }
  }

  function dropParty(callSid, button) {
    button.disabled = true;
    request("POST", urls.dropUrl, { call_sid: callSid }).then(function (body) {
      clearMessage("party");
      renderParties(body);
    }, function (error) {
      showMessage("party", error.message);
      button.disabled = false;
    });
  }

  // A three-way call with an outside number: rung into this call, the caller staying in.
  function addNumber(event) {
    event.preventDefault();
    var number = $("add-number").value.trim();
    if (!number) {
      showMessage("party", T.noNumber, "warning");
      return;
    }
    var button = $("add-number-btn");
    button.disabled = true;
    request("POST", urls.addNumberUrl, { number: number }).then(function (body) {
      clearMessage("party");
      showMessage("party", fmt(gettext("Calling %(number)s into the call…"), { number: body.adding }), "info");
      refreshParties();
    }, function (error) {
      showMessage("party", error.message);
    }).then(function () { button.disabled = false; });
  }

  function transfer(button, target) {
    if (!call) return;
    button.disabled = true;
    request("POST", urls.transferUrl, target).then(function (body) {
      clearMessage("transfer");
      showMessage("transfer", body.ringing
        ? gettext("Ringing your colleague: the call passes to them when they answer.")
        : gettext("The caller was transferred."), "info");
    }, function (error) {
      showMessage("transfer", error.message);
    }).then(function () { button.disabled = false; });
  }

  function setMuted(muted) {
    var button = $("mute-btn");
    button.textContent = muted ? T.unmute : T.mute;
    button.setAttribute("aria-pressed", muted ? "true" : "false");
    button.classList.toggle("active", muted);
  }

  // --- Screen-pop: fetched by itself when a call connects, retried until the app knows it.
  function loadScreenPop() {
    clearTimeout(popHandle);
    if (!call) return;
    var params = call.parameters || {};
    var query = new URLSearchParams({ call_sid: params.CallSid || "", from: params.From || "" });
    request("GET", urls.callUrl + "?" + query).then(function (body) {
      if (body.call) {
        pop = body.call;
        renderScreenPop();
        // A queue call is known as soon as the caller is bridged; a retry picks up late data.
        if (!pop.queue && pop.direction === "inbound" && popTries < 3) schedulePop();
      } else {
        schedulePop();
      }
    }, schedulePop);
  }

  function schedulePop() {
    popTries += 1;
    if (call && popTries < POP_MAX_TRIES) popHandle = setTimeout(loadScreenPop, POP_RETRY_MS);
  }

  function text(id, value) { $(id).textContent = value === null || value === undefined ? "" : value; }

  function renderScreenPop() {
    $("screen-pop").hidden = false;
    $("note-panel").hidden = false;
    text("pop-number", pop.phone_e164 || pop.phone_number);
    text("pop-queue", pop.queue ? pop.queue.name : "—");
    text("pop-wait", pop.wait_seconds === null ? "—" : clock(pop.wait_seconds));
    var ivr = pop.ivr_path;
    $("pop-ivr").hidden = $("pop-ivr-label").hidden = !(ivr && ivr.length);
    if (ivr && ivr.length) {
      var list = document.createElement("ol");
      list.className = "mb-0 ps-3";
      ivr.forEach(function (step) {
        var li = document.createElement("li");
        li.textContent = step.step + (step.digits ? " [" + step.digits + "]" : "") +
          (OUTCOMES[step.outcome] ? " (" + OUTCOMES[step.outcome] + ")" : "");
        list.appendChild(li);
      });
      $("pop-ivr").replaceChildren(list);
    }
    var box = $("pop-customer");
    box.replaceChildren();
    if (pop.customer) {
      var card = document.createElement("div");
      card.className = "customer-card border rounded p-2";
      var name = document.createElement("a");
      name.href = pop.customer.url;
      name.target = "_blank";
      name.rel = "noopener";
      name.className = "fw-bold";
      name.id = "pop-customer-name";
      name.textContent = pop.customer.name || pop.customer.phone_number;
      card.appendChild(name);
      [pop.customer.company, pop.customer.email, pop.customer.notes].forEach(function (line) {
        if (!line) return;
        var div = document.createElement("div");
        div.className = "small";
        div.textContent = line;
        card.appendChild(div);
      });
      box.appendChild(card);
      $("customer-form").hidden = true;
    } else {
      $("customer-form").hidden = !pop.phone_e164;
    }
    renderNotes(pop.notes || []);
  }

  function renderNotes(notes) {
    var list = $("pop-notes");
    list.replaceChildren();
    if (!notes.length) {
      var li = document.createElement("li");
      li.className = "text-body-secondary";
      li.textContent = T.noNotes;
      list.appendChild(li);
      return;
    }
    notes.forEach(function (note) {
      var li = document.createElement("li");
      li.className = "mb-1 note";
      var when = new Date(note.created_at);
      var head = document.createElement("div");
      head.className = "text-body-secondary";
      head.textContent = when.toLocaleString() + " · " + note.agent +
        (note.disposition ? " · " + note.disposition : "");
      var body = document.createElement("div");
      body.textContent = note.text;
      li.appendChild(head);
      li.appendChild(body);
      list.appendChild(li);
    });
  }

  function createCustomer(event) {
    event.preventDefault();
    if (!pop || !pop.phone_e164) return;
    request("POST", urls.customerUrl, { phone_number: pop.phone_e164, name: $("customer-name").value })
      .then(function (body) {
        pop.customer = body.customer;
        renderScreenPop();
        showMessage("customer", T.customerCreated, "success");
      }, function (error) { showMessage("customer", error.message); });
  }

  function saveNote(event) {
    event.preventDefault();
    if (!pop) return;
    var data = {
      disposition: $("note-disposition").value,
      text: $("note-text").value,
      customer: pop.customer ? pop.customer.id : "",
      phone_number: pop.phone_e164 || pop.phone_number || "",
      call_sid: pop.call_sid || "",
      queue: pop.queue ? pop.queue.slug : ""
    };
    request("POST", urls.noteUrl, data).then(function (body) {
      pop.notes = [body.note].concat(pop.notes || []);
      renderNotes(pop.notes);
      $("note-text").value = "";
      $("note-disposition").value = "";
      $("note-saved").hidden = false;
      clearMessage("note");
    }, function (error) { showMessage("note", error.message); });
  }

  // --- Presence and queues
  function renderState(state) {
    var label = $("status-label");
    label.textContent = state.status_label;
    label.dataset.status = state.status;
    var select = $("status-select");
    if (document.activeElement !== select) select.value = state.status;
    select.disabled = state.status === "on-call";
    $("ready-btn").hidden = state.status !== "wrap-up" && state.status !== "missed";
    if (state.status === "missed" && lastStatus !== "missed") showMessage("missed", T.missed, "warning");
    if (state.status !== "missed") clearMessage("missed");
    if (state.status === "wrap-up" && lastStatus !== "wrap-up") showMessage("wrapup", T.wrapUp, "info");
    if (state.status !== "wrap-up") clearMessage("wrapup");
    lastStatus = state.status;
    renderQueues(state.queues);
  }

  function renderQueues(queues) {
    var body = $("queues").tBodies[0];
    body.replaceChildren();
    if (!queues.length) {
      var empty = body.insertRow();
      var cell = empty.insertCell();
      cell.colSpan = 4;
      cell.className = "text-body-secondary";
      cell.textContent = T.noQueues;
      return;
    }
    queues.forEach(function (queue) {
      var row = body.insertRow();
      row.dataset.queue = queue.slug;
      row.insertCell().textContent = queue.name;
      var waiting = row.insertCell();
      waiting.className = "num waiting";
      waiting.textContent = queue.waiting;
      var longest = row.insertCell();
      longest.className = "num longest";
      longest.textContent = queue.longest_wait_seconds === null ? "—" : clock(queue.longest_wait_seconds);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-primary take-next";
      button.dataset.queue = queue.slug;
      button.textContent = T.takeNext;
      button.addEventListener("click", function () { takeNext(queue.slug); });
      row.insertCell().appendChild(button);
    });
  }

  function refreshState() {
    return request("GET", urls.stateUrl).then(function (state) {
      clearMessage("state");
      renderState(state);
    }, function (error) {
      showMessage(error.status === 401 ? "token" : "state",
                  error.status === 401 ? T.tokenExpired : error.message);
    });
  }

  function chooseStatus(status) {
    request("POST", urls.statusUrl, { status: status }).then(renderState, function (error) {
      showMessage("status", error.message);
    });
  }

  // --- Wiring
  $("status-select").addEventListener("change", function (event) { chooseStatus(event.target.value); });
  $("ready-btn").addEventListener("click", function () { chooseStatus("available"); });
  $("accept-btn").addEventListener("click", function () { if (call) call.accept(); });
  $("reject-btn").addEventListener("click", function () {
    if (call) {
      call.reject();
      onEnded();
    }
  });
  $("hangup-btn").addEventListener("click", function () { if (call) call.disconnect(); });
  $("hold-btn").addEventListener("click", function () { if (call) toggleHold(); });
  $("recording-btn").addEventListener("click", function () { if (call) toggleRecording(); });
  $("transfer-form").addEventListener("submit", transferToQueue);
  $("transfer-number-form").addEventListener("submit", transferToNumber);
  $("add-number-form").addEventListener("submit", addNumber);
  $("transfer-agent-form").addEventListener("submit", transferToAgent);
  $("consult-btn").addEventListener("click", function () { if (call) consult("start"); });
  Array.prototype.forEach.call(root.querySelectorAll(".consult-action"), function (button) {
    button.addEventListener("click", function () { if (call) consult(button.dataset.action); });
  });
  $("mute-btn").addEventListener("click", function () {
    if (!call) return;
    var muted = !call.isMuted();
    call.mute(muted);
    setMuted(muted);
  });
  Array.prototype.forEach.call(root.querySelectorAll(".dtmf"), function (button) {
    button.addEventListener("click", function () {
      if (!call) return;
      call.sendDigits(button.dataset.digit);
      $("dtmf-sent").textContent += button.dataset.digit;
    });
  });
  $("dial-form").addEventListener("submit", dialNumber);
  $("customer-form").addEventListener("submit", createCustomer);
  $("note-form").addEventListener("submit", saveNote);
  window.addEventListener("offline", function () { showMessage("offline", T.deviceOffline); });
  // Closing the page unregisters the softphone: tell the app, which may not hear it otherwise.
  window.addEventListener("pagehide", function () {
    if ($("device-state").dataset.state !== "registered" || !navigator.sendBeacon) return;
    var data = new FormData();
    data.append("state", "unregistered");
    data.append("csrfmiddlewaretoken", csrf);
    navigator.sendBeacon(urls.deviceUrl, data);
  });
  window.addEventListener("online", function () { clearMessage("offline"); });

  startDevice();
  refreshState();
  setInterval(refreshState, STATE_POLL_MS);
}());
