// Back office, a small progressive enhancement: buttons marked data-copy copy a link.
// Everything works without it (the link can still be selected and copied by hand).
(() => {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach((button) => {
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    source.addEventListener("focus", () => source.select());
    if (!navigator.clipboard) return; // only on https: the field can still be selected
    button.hidden = false;
    button.addEventListener("click", () => {
      navigator.clipboard.writeText(source.value).then(() => {
        const label = button.textContent;
        button.textContent = button.dataset.copied;
        setTimeout(() => {
          button.textContent = label;
        }, 2000);
      });
    });
  });
})();
