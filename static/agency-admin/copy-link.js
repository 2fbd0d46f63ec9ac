// Agency admin: a read-only link field with a "Copy" button (apps/clients/admin.py, copy_field).
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
