// Knowledge base: reload the page when documents being processed are done (polls a small JSON view).
(function () {
  "use strict";
  var table = document.getElementById("documents");
  if (!table || !table.querySelector("[data-status]")) return;
  function poll() {
    fetch(table.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (!data.documents.length) { location.reload(); return; }
        data.documents.forEach(function (doc) {
          var bar = table.querySelector('[data-document="' + doc.id + '"] .progress > span');
          if (bar) bar.style.inlineSize = doc.progress + "%";
        });
        setTimeout(poll, 1500);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
