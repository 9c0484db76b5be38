// webtom's only script, and an optional one: a choice field whose choices
// depend on another field (PanSTARRS: the catalogs of a data release) gets
// the right options when the other field changes. Without it, the server
// draws the options for the current value and reports a mismatch inline.
document.querySelectorAll("select[data-depends-on]").forEach(function (child) {
  var parent = document.getElementById(child.dataset.dependsOn);
  var table = JSON.parse(child.dataset.choicesFor || "{}");
  if (!parent) return;
  parent.addEventListener("change", function () {
    var choices = table[parent.value];
    if (!choices) return;
    var current = child.value;
    child.textContent = "";
    choices.forEach(function (c) {
      child.add(new Option(c.label, c.value, false, c.value === current));
    });
  });
});
