// The voucher's expiry counting down, every second, in the page's language.
(function () {
  var node = document.querySelector("[data-countdown]");
  if (!node) return;
  var end = Date.parse(node.getAttribute("datetime"));
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var left = Math.floor((end - Date.now()) / 1000);
    if (left <= 0) {
      node.textContent = node.getAttribute("data-expired");
      return;
    }
    var days = Math.floor(left / 86400);
    var hms = pad(Math.floor(left % 86400 / 3600)) + ":" + pad(Math.floor(left % 3600 / 60)) +
      ":" + pad(left % 60);
    node.textContent = node.getAttribute("data-days").replace("{days}", days).replace("{time}", hms);
    setTimeout(tick, 1000);
  }
  tick();
})();
