/* The local Twilio's phone page: calls through the scripting API (/emulator/calls). */
(function () {
  "use strict";

  var POLL_MS = 500;
  var $ = function (id) { return document.getElementById(id); };

  function api(method, path, body) {
    var options = { method: method };
    if (body !== undefined) {
      options.body = JSON.stringify(body);
      options.headers = { "Content-Type": "application/json" };
    }
    return fetch(path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.message || ("HTTP " + response.status));
        return data;
      });
    });
  }

  function speak(text, language) {
    if (!$("speak").checked || !window.speechSynthesis || !text) return;
    var utterance = new SpeechSynthesisUtterance(text);
    if (language) utterance.lang = language;
    window.speechSynthesis.speak(utterance);
  }

  function describe(state) {
    if (state.status === "queued" || state.status === "ringing" || state.status === "initiated") {
      return ["ringing", "ringing"];
    }
    if (state.status !== "in-progress") return ["ended", "ended: " + state.status];
    if (state.on_hold) return ["hold", "on hold"];
    if (state.connected_to.length) return ["connected", "connected to " + state.connected_to.join(", ")];
    if (state.queue) return ["queue", "waiting in queue " + state.queue];
    if (state.gathering) return ["menu", "listening for keys"];
    return ["in-progress", "in progress"];
  }

  function line(entry) {
    var li = document.createElement("li");
    var at = document.createElement("span");
    at.className = "at";
    at.textContent = entry.at.toFixed(1) + " s";
    var text = document.createElement("span");
    text.className = entry.verb;
    if (entry.verb === "say") text.textContent = entry.text;
    else if (entry.verb === "play") text.textContent = "♪ playing " + entry.text;
    else if (entry.verb === "pause") text.textContent = "(silence " + entry.text + " s)";
    else text.textContent = "(tones " + entry.text + ")";
    li.appendChild(at);
    li.appendChild(text);
    return li;
  }

  function follow(sid, panel) {
    var shown = 0;
    var state = panel.querySelector(".state");
    var list = panel.querySelector(".heard");
    panel.dataset.sid = sid;
    function poll() {
      api("GET", "/emulator/calls/" + sid).then(function (call) {
        call.heard.slice(shown).forEach(function (entry) {
          list.appendChild(line(entry));
          if (entry.verb === "say") speak(entry.text, entry.language);
        });
        shown = call.heard.length;
        list.scrollTop = list.scrollHeight;
        var described = describe(call);
        state.dataset.state = described[0];
        state.textContent = described[1];
        if (described[0] === "ended") {
          panel.querySelector(".hangup").disabled = true;
          if (window.speechSynthesis) window.speechSynthesis.cancel();
          return;
        }
        setTimeout(poll, POLL_MS);
      }, function (error) {
        $("error").textContent = error.message;
        setTimeout(poll, POLL_MS * 4);
      });
    }
    poll();
  }

  function placeCall(event) {
    event.preventDefault();
    $("error").textContent = "";
    var to = $("to").value, from = $("from").value.trim();
    api("POST", "/emulator/calls", { to: to, from: from }).then(function (body) {
      var panel = $("call-template").content.firstElementChild.cloneNode(true);
      panel.querySelector(".who").textContent = from + " → " + to;
      panel.querySelector(".hangup").addEventListener("click", function () {
        api("POST", "/emulator/calls/" + body.sid + "/hangup").catch(function (error) {
          $("error").textContent = error.message;
        });
      });
      Array.prototype.forEach.call(panel.querySelectorAll("[data-key]"), function (button) {
        button.addEventListener("click", function () {
          api("POST", "/emulator/calls/" + body.sid + "/digits", { digits: button.dataset.key })
            .catch(function (error) { $("error").textContent = error.message; });
        });
      });
      $("calls").prepend(panel);
      follow(body.sid, panel);
    }, function (error) { $("error").textContent = error.message; });
  }

  api("GET", "/emulator/numbers").then(function (body) {
    body.numbers.forEach(function (number) {
      var option = document.createElement("option");
      option.value = option.textContent = number;
      $("to").appendChild(option);
    });
  }, function (error) { $("error").textContent = error.message; });
  $("dial").addEventListener("submit", placeCall);
}());
