// On a phone the navigation is a strip that scrolls sideways: bring the current page's item into view.
(function () {
  "use strict";
  var current = document.querySelector(".nav [aria-current=page]");
  if (current && current.scrollIntoView) current.scrollIntoView({ block: "nearest", inline: "nearest" });
})();
