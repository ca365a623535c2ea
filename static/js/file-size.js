/* Upload forms: as soon as a file is chosen, say how big it is and refuse one over the limit.
 * <input type="file" data-max-bytes="N"> with <p id="file-size-hint" data-size-label="..."
 * data-too-large="...">. The server checks the size again; this only saves a long upload. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) { return; }
    var hint = document.getElementById("file-size-hint");
    var file = input.files && input.files[0];
    if (!hint) { return; }
    if (!file) { hint.textContent = ""; input.setCustomValidity(""); return; }
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    var mb = (file.size / 1048576).toFixed(1).replace(".", ",");
    var text = hint.getAttribute("data-size-label") + " " + mb + " MB.";
    if (file.size > max) {
      text += " " + hint.getAttribute("data-too-large");
      hint.classList.add("field-error");
      input.setCustomValidity(hint.getAttribute("data-too-large"));
    } else {
      hint.classList.remove("field-error");
      input.setCustomValidity("");
    }
    hint.textContent = text;
  });
})();
