// secmail's own behaviour, kept out of the pages so that the Content-Security-Policy can forbid
// inline script: a <select data-autosubmit> submits its form when its value changes.
document.addEventListener("change", function (event) {
  var target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.submit();
  }
});
