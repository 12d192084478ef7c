// The portal's own script, served from /static (the Content-Security-Policy allows no inline script).

// One submit per form: a double click must not send twice (the server also deduplicates).
document.querySelectorAll("form[data-once]").forEach(function (form) {
  form.addEventListener("submit", function () {
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    if (form.id) {  // buttons outside the form that submit it (form="…")
      document.querySelectorAll("button[type=submit][form='" + form.id + "']").forEach(function (b) { b.disabled = true; });
    }
  });
});

// Buttons that print the page (the receipt).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
