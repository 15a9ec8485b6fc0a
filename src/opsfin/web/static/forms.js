// Filters that apply as soon as they change: a <select> or checkbox marked data-autosubmit submits its
// form. A static file, not an inline handler, so the pages run under a Content-Security-Policy that
// allows no inline script (docs/security.md).
(function () {
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { if (el.form) { el.form.submit(); } });
  });
})();
