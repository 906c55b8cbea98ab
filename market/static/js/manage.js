// Back office, a small progressive enhancement: forms marked data-keep remember what was typed
// on this phone until the server confirms the save (a volunteer called away mid-form loses
// nothing), and buttons marked data-copy copy a link. Everything works without it.
(() => {
  "use strict";
  const PREFIX = "pasar:form:";
  let store = null;
  try {
    store = window.localStorage;
  } catch (error) {
    store = null; // private mode or storage switched off: nothing to remember with
  }

  // The page after a successful save names the forms whose kept values are now stored.
  document.querySelectorAll("[data-keep-forget]").forEach((marker) => {
    if (store) store.removeItem(PREFIX + marker.dataset.keepForget);
  });

  const kept = (form) =>
    Array.from(form.elements).filter(
      (el) => el.name && !["hidden", "submit", "button", "password", "file"].includes(el.type),
    );

  const snapshot = (form) => {
    const values = {};
    kept(form).forEach((el) => {
      if (el.type === "checkbox" || el.type === "radio") {
        values[el.name] = values[el.name] || [];
        if (el.checked) values[el.name].push(el.value);
      } else {
        values[el.name] = el.value;
      }
    });
    return values;
  };

  const apply = (form, values) => {
    kept(form).forEach((el) => {
      if (!(el.name in values)) return;
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values[el.name].includes(el.value);
      } else {
        el.value = values[el.name];
      }
    });
  };

  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

  document.querySelectorAll("form[data-keep]").forEach((form) => {
    if (!store) return;
    const key = PREFIX + form.dataset.keep;
    const version = form.elements.version ? form.elements.version.value : "";
    const note = form.querySelector("[data-keep-note]");
    const fresh = snapshot(form);
    let saved = null;
    try {
      saved = JSON.parse(store.getItem(key) || "null");
    } catch (error) {
      saved = null;
    }
    // Restore only onto the page it was typed on: a form the server filled differently (an
    // error to show, or someone else's newer save) wins over what this phone remembers.
    const typedNothing = kept(form).every((el) =>
      el.type === "checkbox" ? !el.checked : el.tagName === "SELECT" || !el.value,
    );
    if (
      saved &&
      saved.version === version &&
      !same(saved.values, fresh) &&
      (version !== "" || typedNothing)
    ) {
      apply(form, saved.values);
      if (note) note.hidden = false;
    }
    const remember = () =>
      store.setItem(key, JSON.stringify({ version, values: snapshot(form) }));
    form.addEventListener("input", remember);
    form.addEventListener("change", remember);
    const clear = form.querySelector("[data-keep-clear]");
    if (clear) {
      clear.addEventListener("click", () => {
        store.removeItem(key);
        form.reset();
        apply(form, fresh);
        if (note) note.hidden = true;
      });
    }
  });

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
