// vero browse: full-size image on click (a lightbox), and gallery filters that apply on change. No dependencies.
(function () {
  "use strict";
  var box = document.getElementById("lightbox");
  if (box) {
    var img = box.querySelector("img"), cap = box.querySelector("figcaption");
    document.addEventListener("click", function (ev) {
      var a = ev.target.closest ? ev.target.closest("a.zoom") : null;
      if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
      ev.preventDefault();
      img.src = a.getAttribute("href");
      cap.textContent = "";
      var row = a.getAttribute("data-row");
      if (row) {
        var link = document.createElement("a");
        link.href = row;
        link.textContent = "open the row";
        cap.appendChild(link);
      }
      box.hidden = false;
    });
    box.addEventListener("click", function (ev) { if (ev.target.tagName !== "A") { box.hidden = true; img.removeAttribute("src"); } });
    document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") box.hidden = true; });
  }
  var form = document.querySelector("form.filters");
  if (form) {
    form.addEventListener("change", function () {
      // empty selects are left out of the URL
      Array.prototype.forEach.call(form.querySelectorAll("select"), function (s) { s.disabled = !s.value; });
      form.submit();
    });
  }
})();
