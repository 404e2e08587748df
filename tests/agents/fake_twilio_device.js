/* A stand-in for @twilio/voice-sdk's Twilio.Device, injected before the page's scripts.
 *
 * Same surface as the SDK 2.x the softphone uses: Device(token, options), register(),
 * updateToken(), connect({params}) -> Promise<Call>, events registered / incoming / error;
 * Call with parameters, accept(), reject(), disconnect(), mute(), isMuted(), sendDigits(),
 * events accept / disconnect / reject. window.__fake lets the test play Twilio's side.
 */
(() => {
  class Emitter {
    constructor() { this._handlers = {}; }
    on(event, handler) {
      (this._handlers[event] = this._handlers[event] || []).push(handler);
      return this;
    }
    emit(event, ...args) { (this._handlers[event] || []).forEach((handler) => handler(...args)); }
  }
  class FakeCall extends Emitter {
    constructor(parameters, direction, params) {
      super();
      this.parameters = parameters; this.direction = direction; this.params = params || {};
      this.customParameters = new Map(); this.muted = false; this.digits = ""; this.state = "pending";
    }
    accept() { this.state = "open"; this.emit("accept", this); }
    reject() { this.state = "closed"; this.emit("reject"); }
    disconnect() { if (this.state === "closed") return; this.state = "closed"; this.emit("disconnect", this); }
    mute(value) { this.muted = value !== false; this.emit("mute", this.muted, this); }
    isMuted() { return this.muted; }
    sendDigits(digits) { this.digits += digits; }
  }
  class FakeDevice extends Emitter {
    constructor(token, options) {
      super();
      this.token = token;
      this.options = options;
      this.state = "unregistered";
      window.__fake.device = this;
    }
    register() {
      setTimeout(() => { this.state = "registered"; this.emit("registered"); }, 20);
      return Promise.resolve();
    }
    updateToken(token) {
      this.token = token;
      this.tokenUpdates = (this.tokenUpdates || 0) + 1;
    }
    connect(options) {
      const call = new FakeCall({}, "OUTGOING", options.params);
      window.__fake.calls.push(call);
      return Promise.resolve(call);
    }
  }
  window.__fake = {
    calls: [],
    last() { return this.calls[this.calls.length - 1]; },
    answer(parameters) { const call = this.last(); call.parameters = parameters; call.accept(); },
    incoming(parameters) {
      const call = new FakeCall(parameters, "INCOMING");
      this.calls.push(call);
      this.device.emit("incoming", call);
    },
    remoteHangup() { this.last().disconnect(); },
  };
  window.Twilio = { Device: FakeDevice };
})();
