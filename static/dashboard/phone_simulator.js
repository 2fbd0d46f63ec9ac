// "Call your agent": a member's socket that plays Twilio's side of a ConversationRelay call (apps/calls/simulator_socket.py).
(function () {
  "use strict";
  var root = document.getElementById("phone-sim");
  if (!root || !document.getElementById("sim-dial")) { return; }
  var log = document.getElementById("sim-log"), text = document.getElementById("sim-text");
  var dial = document.getElementById("sim-dial"), hangup = document.getElementById("sim-hangup");
  var send = document.getElementById("sim-send"), status = document.getElementById("sim-status");
  var socket = null;

  function bubble(who, value) {
    var div = document.createElement("div");
    div.className = "bubble " + who;
    div.dir = "auto";
    div.textContent = value;
    log.appendChild(div);
  }
  function live(on) { text.disabled = send.disabled = hangup.disabled = !on; dial.disabled = on; }

  dial.addEventListener("click", function () {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.socket);
    socket.onopen = function () { socket.send(JSON.stringify({ type: "dial" })); };
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "ringing") { live(true); if (data.greeting) { bubble("agent", data.greeting); } text.focus(); }
      else if (data.type === "reply") {
        bubble("agent", data.text);
        if (data.language) { status.textContent = data.language; }
        if (data.end) { status.textContent = data.end; }
      } else if (data.type === "ended") { live(false); (data.said || []).forEach(function (s) { bubble("agent", s); }); }
      else if (data.type === "error") { status.textContent = data.message; }
    };
    socket.onclose = function () { live(false); };
  });
  hangup.addEventListener("click", function () { if (socket) { socket.send(JSON.stringify({ type: "hangup" })); socket.close(); } });
  document.getElementById("sim-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!socket || !text.value.trim()) { return; }
    bubble("user", text.value);
    socket.send(JSON.stringify({ type: "say", text: text.value, lang: document.getElementById("sim-lang").value }));
    text.value = "";
  });
})();
