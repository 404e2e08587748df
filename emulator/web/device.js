/* The local Twilio's emulated softphone: window.Twilio.Device with the interface of Twilio's
 * Voice JavaScript SDK 2.x that the agent desk uses (register, unregister, destroy, connect,
 * updateToken, state, events "registered", "unregistered", "incoming", "error",
 * "tokenWillExpire"; calls with accept, reject, disconnect, mute, isMuted, sendDigits, status,
 * parameters, customParameters and events "accept", "disconnect", "cancel", "reject", "error").
 * It talks to the local Twilio's scripting API over HTTP (long poll). There is no audio.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var BASE = script ? new URL(script.src).origin : "";
  var RETRY_MS = 3000;

  function Emitter() { this._handlers = {}; }
  Emitter.prototype.on = function (name, fn) {
    (this._handlers[name] = this._handlers[name] || []).push(fn);
    return this;
  };
  Emitter.prototype.off = function (name, fn) {
    this._handlers[name] = (this._handlers[name] || []).filter(function (h) { return h !== fn; });
    return this;
  };
  Emitter.prototype.removeAllListeners = function () { this._handlers = {}; return this; };
  Emitter.prototype.emit = function (name) {
    var args = Array.prototype.slice.call(arguments, 1);
    (this._handlers[name] || []).slice().forEach(function (fn) { fn.apply(null, args); });
  };

  function api(method, path, body, keepalive) {
    var options = { method: method, keepalive: !!keepalive };
    if (body !== undefined) {
      options.body = JSON.stringify(body);
      options.headers = { "Content-Type": "text/plain" };  // a simple request: no preflight
    }
    return fetch(BASE + path, options).then(function (response) {
      return response.text().then(function (text) {
        var data = {};
        try { data = text ? JSON.parse(text) : {}; } catch (e) { data = {}; }
        if (!response.ok) {
          var error = new Error(data.message || ("HTTP " + response.status));
          error.code = data.code || (response.status === 401 ? 20101 : 31000);
          error.name = response.status === 401 ? "AccessTokenInvalid" : "ConnectionError";
          error.status = response.status;
          throw error;
        }
        return data;
      });
    }, function () {
      var error = new Error("The local Twilio cannot be reached");
      error.code = 31005;
      error.name = "ConnectionError";
      throw error;
    });
  }

  function tokenExpiry(token) {
    try {
      var payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(payload)).exp * 1000;
    } catch (e) {
      return null;
    }
  }

  // --- a call ---------------------------------------------------------------------------------
  function Call(device, sid, params, custom, direction) {
    Emitter.call(this);
    this._device = device;
    this.parameters = params || {};
    if (sid) this.parameters.CallSid = sid;
    this.customParameters = new Map(Object.entries(custom || {}));
    this.direction = direction;
    this._status = direction === "INCOMING" ? "pending" : "connecting";
    this._muted = false;
  }
  Call.prototype = Object.create(Emitter.prototype);
  Call.prototype.status = function () { return this._status; };
  Call.prototype.isMuted = function () { return this._muted; };
  Call.prototype._post = function (action, body) {
    var self = this;
    var sid = this.parameters.CallSid;
    if (!sid || !this._device._id) return Promise.resolve();
    return api("POST", "/emulator/devices/" + this._device._id + "/calls/" + sid + "/" + action, body)
      .catch(function (error) { self.emit("error", error); });
  };
  Call.prototype.accept = function () {
    if (this._status !== "pending") return;
    this._status = "connecting";
    this._post("accept");
  };
  Call.prototype.reject = function () {
    if (this._status !== "pending") return;
    this._status = "closed";
    this._post("reject");
    this._device._forget(this);
    this.emit("reject");
  };
  Call.prototype.ignore = function () { this._status = "closed"; this._device._forget(this); };
  Call.prototype.disconnect = function () {
    if (this._status === "closed") return;
    this._post("hangup");
  };
  Call.prototype.mute = function (muted) {
    this._muted = muted === undefined ? true : !!muted;
    this._post("mute", { muted: this._muted });
    this.emit("mute", this._muted, this);
  };
  Call.prototype.sendDigits = function (digits) { this._post("digits", { digits: String(digits) }); };
  Call.prototype._event = function (event) {
    if (event.type === "accept") {
      this._status = "open";
      this.emit("accept", this);
    } else if (event.type === "disconnect") {
      this._status = "closed";
      this._device._forget(this);
      this.emit("disconnect", this);
    } else if (event.type === "cancel") {
      this._status = "closed";
      this._device._forget(this);
      this.emit("cancel");
    }
  };

  // --- the device -----------------------------------------------------------------------------
  function Device(token, options) {
    Emitter.call(this);
    this._token = token;
    this._options = options || {};
    this._id = null;
    this._calls = {};
    this._early = {};
    this._polling = false;
    this._expiryTimer = null;
    this.state = "unregistered";
    this.calls = [];
    this.isBusy = false;
    var self = this;
    window.addEventListener("pagehide", function () { self._drop(true); });
  }
  Device.prototype = Object.create(Emitter.prototype);
  Device.EventName = {
    Error: "error", Incoming: "incoming", Registered: "registered",
    Registering: "registering", TokenWillExpire: "tokenWillExpire", Unregistered: "unregistered"
  };
  Device.State = {
    Destroyed: "destroyed", Registered: "registered", Registering: "registering",
    Unregistered: "unregistered"
  };
  Device.isSupported = true;
  Device.emulated = true;

  Device.prototype._scheduleExpiry = function () {
    clearTimeout(this._expiryTimer);
    var expires = tokenExpiry(this._token);
    if (!expires) return;
    var self = this;
    var before = this._options.tokenRefreshMs || 10000;
    this._expiryTimer = setTimeout(function () {
      self.emit("tokenWillExpire", self);
    }, Math.max(0, expires - Date.now() - before));
  };

  Device.prototype.register = function () {
    var self = this;
    if (this.state === "destroyed") return Promise.reject(new Error("destroyed"));
    this.state = "registering";
    this.emit("registering");
    return api("POST", "/emulator/devices", { token: this._token }).then(function (body) {
      self._id = body.id;
      self.identity = body.identity;
      self.state = "registered";
      self._scheduleExpiry();
      self.emit("registered");
      self._poll();
    }, function (error) {
      self.state = "unregistered";
      self.emit("error", error);
      if (error.code === 31005) setTimeout(function () {
        if (self.state === "unregistered") self.register();
      }, RETRY_MS);
      throw error;
    }).catch(function () {});
  };

  Device.prototype.updateToken = function (token) {
    this._token = token;
    this._scheduleExpiry();
    if (this.state === "registered") {
      var old = this._id;
      var self = this;
      api("POST", "/emulator/devices", { token: token }).then(function (body) {
        self._id = body.id;
        if (old) api("DELETE", "/emulator/devices/" + old).catch(function () {});
      }, function (error) { self.emit("error", error); });
    }
  };

  Device.prototype._poll = function () {
    var self = this;
    if (this._polling) return;
    this._polling = true;
    (function loop() {
      if (self.state !== "registered" || !self._id) { self._polling = false; return; }
      var id = self._id;
      api("GET", "/emulator/devices/" + id + "/events?wait=25").then(function (body) {
        (body.events || []).forEach(function (event) { self._event(event); });
        loop();
      }, function (error) {
        self._polling = false;
        if (self.state !== "registered" || self._id !== id) return;
        self.state = "unregistered";
        self._id = null;
        self.emit("unregistered");
        self.emit("error", error);
        setTimeout(function () { if (self.state === "unregistered") self.register(); }, RETRY_MS);
      });
    }());
  };

  Device.prototype._event = function (event) {
    var call = this._calls[event.call];
    if (event.type === "incoming") {
      call = new Call(this, event.call, event.params, event.custom, "INCOMING");
      this._track(call);
      this.emit("incoming", call);
    } else if (call) {
      call._event(event);
    } else {  // a call this device is placing, before connect() has answered
      (this._early[event.call] = this._early[event.call] || []).push(event);
    }
  };

  Device.prototype._track = function (call) {
    this._calls[call.parameters.CallSid] = call;
    this.calls = Object.keys(this._calls).map(function (sid) { return this._calls[sid]; }, this);
    this.isBusy = this.calls.length > 0;
  };

  Device.prototype._forget = function (call) {
    delete this._calls[call.parameters.CallSid];
    this.calls = Object.keys(this._calls).map(function (sid) { return this._calls[sid]; }, this);
    this.isBusy = this.calls.length > 0;
  };

  Device.prototype.connect = function (options) {
    var self = this;
    var params = (options && options.params) || {};
    if (this.state !== "registered") {
      var error = new Error("The device is not registered");
      error.code = 31005;
      return Promise.reject(error);
    }
    return api("POST", "/emulator/devices/" + this._id + "/connect", { params: params })
      .then(function (body) {
        var call = new Call(self, body.call, Object.assign({}, params), {}, "OUTGOING");
        self._track(call);
        var early = self._early[body.call] || [];
        delete self._early[body.call];
        setTimeout(function () { early.forEach(function (event) { call._event(event); }); }, 0);
        return call;
      });
  };

  Device.prototype.disconnectAll = function () {
    this.calls.forEach(function (call) { call.disconnect(); });
  };

  Device.prototype._drop = function (keepalive) {
    var id = this._id;
    this._id = null;
    if (id) api("DELETE", "/emulator/devices/" + id, undefined, keepalive).catch(function () {});
  };

  Device.prototype.unregister = function () {
    this._drop(false);
    this.state = "unregistered";
    this.emit("unregistered");
    return Promise.resolve();
  };

  Device.prototype.destroy = function () {
    this.disconnectAll();
    this._drop(false);
    clearTimeout(this._expiryTimer);
    var was = this.state;
    this.state = "destroyed";
    if (was === "registered") this.emit("unregistered");
    this.emit("destroyed");
  };

  window.Twilio = window.Twilio || {};
  window.Twilio.Device = Device;
  window.Twilio.Call = Call;
}());
