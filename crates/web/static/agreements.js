// Small improvements of the agreements' pages, which work without it: a
// JSON file read into the draft's text box, and a print button.
document.addEventListener("DOMContentLoaded", function () {
  var holder = document.querySelector("[data-file]");
  var file = document.getElementById("json-file");
  var text = document.getElementById("json");
  if (holder && file && text && window.FileReader) {
    holder.hidden = false;
    file.addEventListener("change", function () {
      if (!file.files || !file.files[0]) return;
      var reader = new FileReader();
      reader.onload = function () { text.value = String(reader.result); };
      reader.readAsText(file.files[0]);
    });
  }
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
});
