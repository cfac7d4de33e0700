// Client pages: a read-only link field selects itself when tapped, so it is easy to copy.
document.addEventListener("click", function (event) {
  var field = event.target.closest("[data-select-on-tap]");
  if (field) { field.select(); }
});

// After a refused form, the first field with a problem takes the focus.
document.addEventListener("DOMContentLoaded", function () {
  var invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) { invalid.focus(); }
});
