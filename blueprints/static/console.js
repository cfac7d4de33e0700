/* Small progressive enhancements for the staff console; every page works without it. */
document.addEventListener("click", function (event) {
  var button = event.target.closest("button.all-present");
  if (!button) return;
  var form = button.closest("form");
  form.querySelectorAll("input[type=radio][value=present]").forEach(function (radio) {
    var group = form.querySelectorAll("input[name='" + radio.name + "']:checked");
    if (group.length === 0) radio.checked = true;
  });
});
