// Counters (the "charcount" template) for text fields with a maxlength,
// whose help says the limit: the browser stops taking characters there
// without a word, so a person typing or pasting a long name would not
// know why it was cut. The pages work without script (the help says the
// limit, and the server refuses a longer value with a message). With
// script, <p data-count="ID" hidden> shows the count of field ID once it
// is within 20 characters of the limit ("92 of 100 characters"), says
// when it is reached, and says by how much a value the form was sent
// back with is over it.
(function () {
  "use strict";
  document.querySelectorAll("[data-count]").forEach(function (counter) {
    var field = document.getElementById(counter.getAttribute("data-count"));
    if (!field || field.maxLength <= 0) {
      return;
    }
    var max = field.maxLength;
    var show = function () {
      var n = field.value.length;
      counter.hidden = n < max - 20;
      counter.classList.toggle("at-limit", n >= max);
      if (n > max) {
        counter.textContent = n + " characters: " + (n - max) + " over the limit of " + max + ".";
      } else if (n === max) {
        counter.textContent = n + " of " + max + " characters: the limit.";
      } else {
        counter.textContent = n + " of " + max + " characters.";
      }
    };
    field.addEventListener("input", show);
    show();
  });
})();
