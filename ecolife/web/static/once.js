// A form that moves points is sent once: the button waits after the first tap.
(function () {
  var forms = document.querySelectorAll("form.once");
  for (var i = 0; i < forms.length; i++) {
    forms[i].addEventListener("submit", function (event) {
      var button = event.target.querySelector("button");
      if (button.disabled) { event.preventDefault(); return; }
      setTimeout(function () {
        button.disabled = true;
        button.textContent = button.getAttribute("data-busy");
      }, 0);
    });
  }
})();
