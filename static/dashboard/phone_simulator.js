// "Call your agent": a member's socket that plays Twilio's side of a ConversationRelay call (apps/calls/simulator_socket.py).
// The socket opens with the page: a call the agent places from this number (a callback, a campaign) rings here.
(function () {
  "use strict";
  var root = document.getElementById("phone-sim");
  if (!root || !document.getElementById("sim-dial")) { return; }
  var log = document.getElementById("sim-log"), text = document.getElementById("sim-text");
  var dial = document.getElementById("sim-dial"), hangup = document.getElementById("sim-hangup");
  var send = document.getElementById("sim-send"), status = document.getElementById("sim-status");
  var ring = document.getElementById("sim-incoming"), ringFrom = document.getElementById("sim-incoming-from");
  var socket = null, pending = [];

  function bubble(who, value) {
    var div = document.createElement("div");
    div.className = "bubble " + who;
    div.dir = "auto";
    div.textContent = value;
    log.appendChild(div);
  }
  function live(on) { text.disabled = send.disabled = hangup.disabled = !on; dial.disabled = on; }
  function ringing(on) { ring.hidden = !on; }

  function post(message) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(message)); }
    else { pending.push(message); open(); }
  }

  function open() {
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) { return; }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.socket);
    socket.onopen = function () {
      root.dataset.listening = "1";
      while (pending.length) { socket.send(JSON.stringify(pending.shift())); }
    };
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "incoming") { ringFrom.textContent = data.from; ringing(true); }
      else if (data.type === "ringing") { ringing(false); live(true); if (data.greeting) { bubble("agent", data.greeting); } text.focus(); }
      else if (data.type === "reply") {
        bubble("agent", data.text);
        if (data.language) { status.textContent = data.language; }
        if (data.end) { status.textContent = data.end; }
      } else if (data.type === "ended") { ringing(false); live(false); (data.said || []).forEach(function (s) { bubble("agent", s); }); }
      else if (data.type === "error") { status.textContent = data.message; }
    };
    socket.onclose = function () { live(false); ringing(false); delete root.dataset.listening; socket = null; };
  }

  dial.addEventListener("click", function () { post({ type: "dial" }); });
  hangup.addEventListener("click", function () { post({ type: "hangup" }); });
  document.getElementById("sim-answer").addEventListener("click", function () { post({ type: "answer" }); });
  document.getElementById("sim-decline").addEventListener("click", function () { ringing(false); post({ type: "decline" }); });
  document.getElementById("sim-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!socket || !text.value.trim()) { return; }
    bubble("user", text.value);
    post({ type: "say", text: text.value, lang: document.getElementById("sim-lang").value });
    text.value = "";
  });
  open();
})();
