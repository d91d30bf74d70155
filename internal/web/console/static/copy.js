// Copy buttons (the "copybutton" template) for the read-only fields that
// show a value to paste elsewhere: a service connection's public key, a
// new API token. The pages work without script: the field is readable and
// selectable, and the button stays hidden. With script, <button
// data-copy="ID" hidden> appears and copies the value of field ID,
// selecting it as well, so that Ctrl+C works when the clipboard is not
// available (a page served over plain http from another host than
// localhost has none); the status next to it says which.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    var status = button.parentElement.querySelector(".copy-status");
    var say = function (text, copied) {
      if (status) {
        status.textContent = text;
        status.classList.toggle("copied", copied);
      }
    };
    var selected = function () {
      say("Selected: press Ctrl+C (\u2318C on a Mac) to copy.", false);
    };
    button.hidden = false;
    button.addEventListener("click", function () {
      say("", false);
      field.focus();
      field.select();
      if (!navigator.clipboard || !window.isSecureContext) {
        selected();
        return;
      }
      navigator.clipboard.writeText(field.value).then(function () {
        say("Copied to the clipboard.", true);
      }, selected);
    });
  });
})();
