// Copy buttons for the read-only public-key fields. The pages work without
// script: the field is readable and selectable, and the button stays
// hidden. With script, <button data-copy="ID" hidden> appears and copies
// the value of field ID (selecting it as well, so that Ctrl+C works when
// the clipboard is not available); the status next to it says which.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    var status = button.parentElement.querySelector(".copy-status");
    var say = function (text) {
      if (status) {
        status.textContent = text;
      }
    };
    var selected = function () {
      say("Selected: press Ctrl+C (\u2318C on a Mac) to copy.");
    };
    button.hidden = false;
    button.addEventListener("click", function () {
      field.focus();
      field.select();
      if (!navigator.clipboard || !window.isSecureContext) {
        selected();
        return;
      }
      navigator.clipboard.writeText(field.value).then(function () {
        say("Copied to the clipboard.");
      }, selected);
    });
  });
})();
