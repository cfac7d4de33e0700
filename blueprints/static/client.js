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

// "Copy the link": the link goes to the clipboard, and the page says it did.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button) { return; }
  var field = document.querySelector(button.getAttribute("data-copy"));
  var note = button.parentNode.querySelector("[data-copied-note]");
  function done(ok) { if (note) { note.textContent = ok ? "Copied." : "Select the link above and copy it."; } }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(function () { done(true); },
                                                    function () { field.select(); done(false); });
  } else {
    field.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    done(ok);
  }
});
