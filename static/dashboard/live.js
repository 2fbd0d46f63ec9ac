// The dashboard's live socket (/ws/dashboard/live/), on every page (progressive enhancement): keeps the home's
// usage cards and the inbox badge current, shows the assigned member's notifications, and hands every inbox
// event to the page as a "vocalia:inbox" window event (static/dashboard/inbox.js listens).
(function () {
  "use strict";
  if (!("WebSocket" in window)) return;
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var number = new Intl.NumberFormat(document.documentElement.lang || undefined);
  var hasCards = !!document.querySelector("[data-quota]");
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

  function badge(count) {
    document.querySelectorAll("[data-inbox-badge]").forEach(function (node) {
      node.textContent = number.format(count);
      node.hidden = !count;
    });
  }

  function toast(data) {
    var box = document.querySelector("[data-toasts]");
    if (!box) return;
    var item = document.createElement("div");
    item.className = "toast";
    var text = document.createElement("span");
    text.textContent = box.getAttribute(data.reason === "assigned" ? "data-assigned" : "data-message");
    var link = document.createElement("a");
    link.href = "/inbox/" + encodeURIComponent(data.conversation) + "/";
    link.textContent = box.getAttribute("data-open");
    item.appendChild(text); item.appendChild(document.createTextNode(" ")); item.appendChild(link);
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 12000);
  }

  function connect() {
    var socket = new WebSocket(scheme + location.host + "/ws/dashboard/live/");
    var timer = null;
    socket.onopen = function () {
      delay = 1000;
      timer = setInterval(function () { socket.send(JSON.stringify({ type: hasCards ? "refresh" : "ping" })); }, 30000);
    };
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "snapshot") {
        apply(data);
        document.documentElement.setAttribute("data-live", "on");
      } else if (data.type === "inbox") {
        if (typeof data.unread === "number") badge(data.unread);
        // a notification for the conversation already open on this page says nothing new
        if (data.event === "notify" && location.pathname !== "/inbox/" + data.conversation + "/") toast(data);
        window.dispatchEvent(new CustomEvent("vocalia:inbox", { detail: data }));
      }
    };
    socket.onclose = function (event) {
      clearInterval(timer);
      document.documentElement.removeAttribute("data-live");
      if (event.code >= 4400 && event.code < 4500) return; // not allowed: do not insist
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 60000);
    };
  }
  connect();
})();
