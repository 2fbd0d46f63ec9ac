// Keeps the usage cards of the dashboard home current over /ws/dashboard/live/ (progressive enhancement).
(function () {
  "use strict";
  var cards = document.querySelectorAll("[data-quota]");
  if (!cards.length || !("WebSocket" in window)) return;
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var number = new Intl.NumberFormat(document.documentElement.lang || undefined);
  var delay = 1000;

  function apply(snapshot) {
    (snapshot.quotas || []).forEach(function (q) {
      var card = document.querySelector('[data-quota="' + q.quota + '"]');
      if (!card) return;
      var used = card.querySelector("[data-used]");
      if (used) used.textContent = number.format(q.used);
      var bar = card.querySelector(".meter > span");
      if (bar) bar.style.inlineSize = q.percent + "%";
      var meter = card.querySelector(".meter");
      if (meter) meter.setAttribute("aria-valuenow", String(q.percent));
    });
  }

  function connect() {
    var socket = new WebSocket(scheme + location.host + "/ws/dashboard/live/");
    var timer = null;
    socket.onopen = function () {
      delay = 1000;
      timer = setInterval(function () { socket.send(JSON.stringify({ type: "refresh" })); }, 30000);
    };
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "snapshot") {
        apply(data);
        document.documentElement.setAttribute("data-live", "on");
      }
    };
    socket.onclose = function (event) {
      clearInterval(timer);
      if (event.code >= 4400 && event.code < 4500) return; // not allowed: do not insist
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 60000);
    };
  }
  connect();
})();
