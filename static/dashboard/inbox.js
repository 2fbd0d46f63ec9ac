// The inbox, live (progressive enhancement: every form also works without this script). Inbox events from the
// dashboard socket (static/dashboard/live.js → "vocalia:inbox") refresh the list, and the open conversation's
// header and messages, from the page's own fragments; the team's actions are sent without leaving the page.
(function () {
  "use strict";
  var root = document.querySelector("[data-inbox]");
  if (!root) return;
  var current = root.getAttribute("data-conversation");
  var query = root.getAttribute("data-query");
  var pending = null;

  function scrollLog() {
    var log = root.querySelector("[data-inbox-log]");
    if (log) log.scrollTop = log.scrollHeight;
  }

  function fragment(name, selector) {
    var target = root.querySelector(selector);
    if (!target) return Promise.resolve();
    var url = location.pathname + "?" + (query ? query + "&" : "") + "fragment=" + name;
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (response) {
      if (!response.ok) return;
      return response.text().then(function (html) { target.innerHTML = html; });
    });
  }

  function refresh(withDetail) {
    var work = [fragment("list", "[data-inbox-list]")];
    if (withDetail && current) {
      work.push(fragment("head", "[data-inbox-head]"));
      work.push(fragment("log", "[data-inbox-log]").then(scrollLog));
    }
    return Promise.all(work).then(function () { root.setAttribute("data-refreshed", String(Date.now())); });
  }

  window.addEventListener("vocalia:inbox", function (event) {
    var data = event.detail || {};
    var detail = current && String(data.conversation) === current;
    clearTimeout(pending);
    pending = setTimeout(function () { refresh(detail); }, 100);
  });

  function error(form, message) {
    var box = form.querySelector(".form-error");
    if (!box) { box = document.createElement("p"); box.className = "form-error"; box.setAttribute("role", "alert"); form.appendChild(box); }
    box.textContent = message;
  }

  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-inbox-form]")) return;
    event.preventDefault();
    var body = new FormData(form);
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin",
                         headers: { "Accept": "application/json", "X-CSRFToken": body.get("csrfmiddlewaretoken") } })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) { error(form, (data.error && data.error.message) || ("HTTP " + response.status)); return; }
          var old = form.querySelector(".form-error"); if (old) old.remove();
          var text = form.querySelector("textarea"); if (text) text.value = "";
          return refresh(true).then(function () {
            var reply = root.querySelector(".inbox-reply .muted"); if (reply && form.action.indexOf("/reply/") > 0) reply.remove();
          });
        });
      })
      .catch(function () { form.submit(); })
      .then(function () { if (button) button.disabled = false; });
  });

  root.addEventListener("change", function (event) {
    var form = event.target.form;
    if (!form) return;
    if (form.hasAttribute("data-filters")) form.submit();
    else if (form.hasAttribute("data-autosubmit")) form.requestSubmit ? form.requestSubmit() : form.submit();
  });
  root.addEventListener("keydown", function (event) {  // Ctrl/⌘ + Enter sends the reply
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.form) {
      event.preventDefault();
      event.target.form.requestSubmit ? event.target.form.requestSubmit() : event.target.form.submit();
    }
  });
  scrollLog();
})();
