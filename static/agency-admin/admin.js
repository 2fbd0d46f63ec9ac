// Agency admin: copy-friendly link fields (apps/clients/admin.py, copy_field), and the folded sections.
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest(".copy-link button");
  if (!button) return;
  const input = button.parentElement.querySelector("input[readonly]");
  input.focus();
  input.select();
  const done = () => {
    const label = button.textContent;
    button.textContent = button.dataset.copied;
    setTimeout(() => { button.textContent = label; }, 2000);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(done, () => { if (document.execCommand("copy")) done(); });
  } else if (document.execCommand("copy")) {
    done();
  }
});
document.addEventListener("focusin", (event) => {
  if (event.target.matches(".copy-link input[readonly]")) event.target.select();
});

// The sidebar's filter (Django's nav_sidebar.js) shows matching rows; open a folded section (dj-stripe) when one
// of its rows matches, and fold it again when the filter is cleared (typed, Escape, or restored on load).
const unfoldMatches = () => {
  const filter = document.getElementById("nav-filter");
  if (!filter) return;
  const value = filter.value.trim().toLowerCase();
  for (const folded of document.querySelectorAll("#nav-sidebar details.app-folded")) {
    const names = [...folded.querySelectorAll("th[scope=row] a")].map((link) => link.textContent.toLowerCase());
    folded.open = value !== "" && names.some((name) => name.includes(value));
  }
};
for (const type of ["input", "keyup"]) {
  document.addEventListener(type, (event) => { if (event.target.id === "nav-filter") unfoldMatches(); });
}
window.addEventListener("load", unfoldMatches);
