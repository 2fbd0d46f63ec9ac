// "Call your agent": a member's socket that plays Twilio's side of a call (apps/calls/simulator_socket.py).
// ConversationRelay: text both ways. Media Streams: the typed text is spoken on the server (espeak-ng, μ-law
// frames to the real consumer); the agent's μ-law 8 kHz frames arrive as binary messages and play here. Each
// caller utterance starts with a `clear` (Twilio's barge-in rule): the agent's next audio is a new bubble.
// The socket opens with the page: a call the agent places from this number (a callback, a campaign) rings here.
(function () {
  "use strict";
  var root = document.getElementById("phone-sim");
  if (!root || !document.getElementById("sim-dial")) { return; }
  var log = document.getElementById("sim-log"), text = document.getElementById("sim-text");
  var dial = document.getElementById("sim-dial"), hangup = document.getElementById("sim-hangup");
  var send = document.getElementById("sim-send"), status = document.getElementById("sim-status");
  var mode = document.getElementById("sim-mode");
  var ring = document.getElementById("sim-incoming"), ringFrom = document.getElementById("sim-incoming-from");
  var transfer = document.getElementById("sim-transfer"), transferTo = document.getElementById("sim-transfer-to");
  var socket = null, pending = [];
  var audio = null, playing = [], nextAt = 0, frames = 0, spoken = null, spokenFrames = 0;

  // G.711 μ-law → float, the 256 codes once
  var MULAW = new Float32Array(256);
  for (var code = 0; code < 256; code++) {
    var u = ~code & 0xff, exponent = (u >> 4) & 7, magnitude = ((((u & 0x0f) << 3) + 0x84) << exponent) - 0x84;
    MULAW[code] = ((u & 0x80) ? -magnitude : magnitude) / 32768;
  }

  function bubble(who, value) {
    var div = document.createElement("div");
    div.className = "bubble " + who;
    div.dir = "auto";
    div.textContent = value;
    log.appendChild(div);
    return div;
  }
  function live(on) { text.disabled = send.disabled = hangup.disabled = !on; dial.disabled = on; }
  function ringing(on) { ring.hidden = !on; }

  function hear() {  // browsers start audio only after a click: the one that places or answers the call
    var Context = window.AudioContext || window.webkitAudioContext;
    if (Context && !audio) { try { audio = new Context(); } catch (e) { audio = null; } }
    if (audio && audio.state === "suspended") { audio.resume(); }
  }
  function play(bytes) {
    if (!audio) { return; }
    var buffer = audio.createBuffer(1, bytes.length, 8000), channel = buffer.getChannelData(0);
    for (var i = 0; i < bytes.length; i++) { channel[i] = MULAW[bytes[i]]; }
    var source = audio.createBufferSource();
    source.buffer = buffer;
    source.connect(audio.destination);
    nextAt = Math.max(nextAt, audio.currentTime + 0.05);
    source.start(nextAt);
    nextAt += buffer.duration;
    playing.push(source);
    source.onended = function () { playing.splice(playing.indexOf(source), 1); };
    frames += bytes.length / 160;
    root.dataset.frames = String(Math.round(frames));
    if (!spoken) { spoken = bubble("agent", ""); spokenFrames = 0; }
    spokenFrames += bytes.length / 160;
    spoken.textContent = root.dataset.voice + " \u00B7 " + (spokenFrames * 0.02).toFixed(1) + " s";
    status.textContent = root.dataset.speaking;
  }
  function clear() {
    playing.forEach(function (source) { try { source.stop(); } catch (e) { /* already stopped */ } });
    playing = []; nextAt = 0;
  }

  function post(message) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(message)); }
    else { pending.push(message); open(); }
  }

  function open() {
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) { return; }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.socket);
    socket.binaryType = "arraybuffer";
    socket.onopen = function () {
      root.dataset.listening = "1";
      while (pending.length) { socket.send(JSON.stringify(pending.shift())); }
    };
    socket.onmessage = function (event) {
      if (typeof event.data !== "string") { play(new Uint8Array(event.data)); return; }
      var data = JSON.parse(event.data);
      if (data.type === "incoming") { ringFrom.textContent = data.from; ringing(true); }
      else if (data.type === "transfer") {
        (data.said || []).forEach(function (s) { bubble("agent", s); });
        transferTo.textContent = data.number;
        transfer.hidden = false;
        text.disabled = send.disabled = true;
        status.textContent = root.dataset.transfer + " " + data.number;
      } else if (data.type === "ringing") {
        ringing(false);
        transfer.hidden = true;
        live(true);
        root.dataset.mode = data.mode;
        mode.textContent = data.mode === "media" ? root.dataset.media : root.dataset.relay;
        if (data.greeting) { bubble("agent", data.greeting); }
        text.focus();
      } else if (data.type === "reply") {
        bubble("agent", data.text);
        if (data.language) { status.textContent = data.language; }
      } else if (data.type === "heard") { status.textContent = root.dataset.heard; }
      else if (data.type === "clear") { clear(); spoken = null; status.textContent = root.dataset.cleared; }
      else if (data.type === "ended") {
        if (!transfer.hidden) { status.textContent = root.dataset.transferred; }
        transfer.hidden = true;
        ringing(false);
        live(false);
        (data.said || []).forEach(function (s) { bubble("agent", s); });
        if (data.transfer) { status.textContent = root.dataset.transfer + " " + data.transfer; }
      } else if (data.type === "error") { status.textContent = data.message; }
    };
    socket.onclose = function () { live(false); ringing(false); delete root.dataset.listening; socket = null; };
  }

  dial.addEventListener("click", function () { hear(); post({ type: "dial" }); });
  hangup.addEventListener("click", function () { clear(); post({ type: "hangup" }); });
  document.getElementById("sim-answer").addEventListener("click", function () { hear(); post({ type: "answer" }); });
  document.getElementById("sim-decline").addEventListener("click", function () { ringing(false); post({ type: "decline" }); });
  transfer.querySelectorAll("button[data-status]").forEach(function (button) {
    button.addEventListener("click", function () { post({ type: "transfer_result", status: button.dataset.status }); });
  });
  document.getElementById("sim-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!socket || !text.value.trim()) { return; }
    bubble("user", text.value);
    if (root.dataset.mode === "media") { status.textContent = root.dataset.saying; }
    post({ type: "say", text: text.value, lang: document.getElementById("sim-lang").value });
    text.value = "";
  });
  open();
})();
