// Small improvements on pages that work without it: a subscription link
// selects itself for copying.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-copy]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
});
