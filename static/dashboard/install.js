// Install page: snippet tabs and copy buttons.
(function () {
  "use strict";
  var tabs = document.querySelectorAll("[data-tab]");
  tabs.forEach(function (tab) {
    tab.addEventListener("click", function () {
      tabs.forEach(function (other) { other.setAttribute("aria-selected", String(other === tab)); });
      document.querySelectorAll("[data-panel]").forEach(function (panel) {
        panel.hidden = panel.getAttribute("data-panel") !== tab.getAttribute("data-tab");
      });
    });
  });
  document.querySelectorAll(".copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = button.parentNode.querySelector(".snippet").textContent;
      var done = function () { var note = button.parentNode.querySelector(".copied"); note.hidden = false;
        setTimeout(function () { note.hidden = true; }, 2000); };
      if (navigator.clipboard) navigator.clipboard.writeText(text).then(done);
      else { var area = document.createElement("textarea"); area.value = text; document.body.appendChild(area);
        area.select(); document.execCommand("copy"); area.remove(); done(); }
    });
  });
})();
