// The collect button: adds the phone's location when the resident allows it (the shop may
// check its distance), and sends the tap once. Without this script the form still posts,
// without a location; the page's one-time key makes a second post harmless anyway.
(function () {
  var form = document.getElementById("collect-form");
  if (!form) return;
  var sent = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (sent) return;
    sent = true;
    var button = form.querySelector("button");
    button.disabled = true;
    button.textContent = button.getAttribute("data-busy");
    var done = false;
    function send() {
      if (done) return;
      done = true;
      form.submit();
    }
    if (!navigator.geolocation) return send();
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.latitude.value = position.coords.latitude.toFixed(6);
      form.elements.longitude.value = position.coords.longitude.toFixed(6);
      send();
    }, send, { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
    setTimeout(send, 9000); // a prompt left unanswered: collect without the location
  });
})();
