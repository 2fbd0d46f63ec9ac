// The agent page's live test chat: one POST per turn, events rendered as text (never as HTML).
(function () {
  "use strict";
  var box = document.getElementById("test-chat");
  if (!box) return;
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var language = document.getElementById("chat-language");
  var conversation = null;
  var csrf = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";

  function bubble(kind, text) {
    var node = document.createElement("div");
    node.className = "bubble " + kind;
    node.textContent = text;
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function send(text) {
    bubble("user", text);
    var waiting = bubble("tool", "…");
    return fetch(box.dataset.chatUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ text: text, conversation: conversation, language: language.value })
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      waiting.remove();
      if (!result.ok) { bubble("error", (result.data.error || {}).message || box.dataset.errorText); return; }
      conversation = result.data.conversation;
      result.data.events.forEach(function (event) {
        if (event.type === "ToolCalled") bubble("tool", "⚙ " + (event.label || event.name));
        if (event.type === "HandOver") bubble("tool", "☎ " + (event.phone || event.email || ""));
        if (event.type === "TurnDone" && event.text) bubble("agent", event.text);
      });
    }).catch(function () { waiting.remove(); bubble("error", box.dataset.networkErrorText); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
  language.addEventListener("change", function () { conversation = null; log.textContent = ""; });
  document.getElementById("chat-reset").addEventListener("click", function () {
    conversation = null; log.textContent = ""; input.focus();
  });
})();
