// The back office without signal. Every post form of the back office (unless marked
// data-online-only) keeps a draft on this phone as it is filled in, photos included, so that
// a reload, a crashed browser or a dead battery loses nothing; chosen photos are made small here
// (1600 px JPEG, no metadata) before they are kept or sent; a form sent without signal goes to
// the outbox (outbox.js) and is sent when the signal returns. Drafts and outbox belong to the
// signed-in user and are deleted when they log out. Without this script the forms post as
// they are and the server checks everything either way.
(() => {
  "use strict";
  const ui = document.getElementById("offline");
  if (!ui || !window.indexedDB || !window.idbKeyval || !window.PasarOutbox) return;
  const db = window.idbKeyval;
  const outbox = window.PasarOutbox;
  const drafts = db.createStore("pasar-drafts", "drafts");
  const user = ui.dataset.user;
  const text = { ...ui.dataset };
  // The widest variant the server keeps; anything larger only costs data.
  const MAX_WIDTH = 1600;
  const JPEG_QUALITY = 0.85;
  const KEY_FIELD = "idempotency_key";
  const NOT_KEPT = new Set(["csrf_token", KEY_FIELD]);
  const NOT_FIELDS = new Set(["submit", "button", "reset", "password"]);
  // Answers that mean the form did not get through; other pages are shown as the server sent them.
  const failed = (status) => status === 413 || status >= 500;
  const shrinking = new WeakMap();
  // Each form's values as the page brought them: "nothing filled in" is the same values.
  const loaded = new WeakMap();
  const saveTimers = new WeakMap();

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(ui.dataset.worker, { scope: ui.dataset.scope }).catch(() => {});
    // The page that installed the worker came from the network before the worker was there:
    // fetched once more through it, so that it too opens without signal.
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      fetch(location.href, { credentials: "same-origin" }).catch(() => {});
    });
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "outbox") showOutbox();
    });
  }
  outbox.rememberToken(user, ui.dataset.token);

  const takesPart = (form) =>
    form instanceof HTMLFormElement &&
    form.method === "post" &&
    !form.hasAttribute("data-online-only");

  // Fields marked data-no-draft are an act of the moment (a vendor's consent): a draft never
  // brings them back.
  const fields = (form) =>
    Array.from(form.elements).filter(
      (el) =>
        el.name &&
        !NOT_KEPT.has(el.name) &&
        !NOT_FIELDS.has(el.type) &&
        !el.hasAttribute("data-no-draft"),
    );

  // --- drafts ------------------------------------------------------------------------------

  function snapshot(form) {
    const values = {};
    fields(form).forEach((el) => {
      if (el.type === "checkbox" || el.type === "radio") {
        values[el.name] = values[el.name] || [];
        if (el.checked) values[el.name].push(el.value);
      } else if (el.type === "file") {
        values[el.name] = Array.from(el.files);
      } else if (el.multiple) {
        values[el.name] = Array.from(el.selectedOptions, (option) => option.value);
      } else {
        values[el.name] = el.value;
      }
    });
    return values;
  }

  function apply(form, values) {
    fields(form).forEach((el) => {
      if (!(el.name in values)) return;
      const value = values[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = value.includes(el.value);
      } else if (el.type === "file") {
        const chosen = new DataTransfer();
        value.forEach((file) => chosen.items.add(file));
        el.files = chosen.files;
      } else if (el.multiple) {
        Array.from(el.options).forEach((option) => {
          option.selected = value.includes(option.value);
        });
      } else {
        el.value = value;
      }
    });
  }

  const comparable = (values) =>
    JSON.stringify(values, (_name, value) =>
      value instanceof Blob ? `${value.name}:${value.size}` : value,
    );

  function saveDraft(form) {
    clearTimeout(saveTimers.get(form));
    saveTimers.set(
      form,
      setTimeout(() => db.set(form.dataset.draft, { values: snapshot(form) }, drafts), 200),
    );
  }

  function forgetDraft(form) {
    clearTimeout(saveTimers.get(form));
    return db.del(form.dataset.draft, drafts);
  }

  function draftNote(form, fresh) {
    const note = document.getElementById("draft-note").content.firstElementChild.cloneNode(true);
    note.querySelector("button").addEventListener("click", () => {
      forgetDraft(form);
      form.reset();
      apply(form, fresh);
      clearPhotoProgress(form);
      note.remove();
    });
    form.prepend(note);
  }

  // A draft belongs to the page it is typed on while that page is open: another tab showing
  // the same form must not take it over (each would then save over the other's typing).
  async function openElsewhere(form) {
    if (!navigator.locks) return false;
    const name = `pasar-draft:${form.dataset.draft}`;
    const { held } = await navigator.locks.query();
    navigator.locks.request(name, () => new Promise(() => {})); // held until the page closes
    return held.some((lock) => lock.name === name);
  }

  async function restoreDraft(form) {
    const fresh = snapshot(form);
    loaded.set(form, comparable(fresh));
    if (await openElsewhere(form)) return;
    const saved = await db.get(form.dataset.draft, drafts);
    // Hidden fields come back too: a draft typed against an older version of a record then
    // meets the conflict page when it is saved, instead of overwriting the newer values.
    if (!saved || comparable(saved.values) === comparable(fresh)) return;
    apply(form, saved.values);
    draftNote(form, fresh);
    form.querySelectorAll("input[type=file]").forEach((input) => {
      if (input.files.length) listPhotos(input, "ready");
    });
  }

  function renewKey(form) {
    let field = form.elements[KEY_FIELD];
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = KEY_FIELD;
      form.append(field);
    }
    field.value = outbox.newKey();
  }

  function enhance() {
    const seen = {};
    document.querySelectorAll("form").forEach((form) => {
      if (!takesPart(form)) return;
      const action = form.getAttribute("action") || "";
      seen[action] = (seen[action] || 0) + 1;
      form.dataset.draft = [user, location.pathname, action, seen[action]].join("|");
      // A post the browser makes itself (the script failed half-way) still carries a key.
      renewKey(form);
      restoreDraft(form);
    });
    showOutbox();
  }

  // --- photos --------------------------------------------------------------------------------

  async function shrink(file) {
    if (!file.type.startsWith("image/")) return file;
    let bitmap;
    try {
      // The browser applies the EXIF orientation while decoding; the canvas keeps no metadata.
      bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (error) {
      return file; // a format this browser cannot read (HEIC on most): the server converts it
    }
    const scale = Math.min(1, MAX_WIDTH / bitmap.width);
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff"; // transparent areas become white, as on the server
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
    canvas.width = canvas.height = 0; // a phone holds one decoded photo at a time, not ten
    if (!blob) return file;
    return new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg" });
  }

  const kilobytes = (bytes) => `${Math.max(1, Math.round(bytes / 1024))} KB`;

  function photoList(input) {
    let list = input.parentElement.querySelector(".photo-progress");
    if (!list) {
      list = document.createElement("ul");
      list.className = "photo-progress list";
      input.insertAdjacentElement("afterend", list);
    }
    return list;
  }

  function clearPhotoProgress(form) {
    form.querySelectorAll(".photo-progress").forEach((list) => list.remove());
  }

  function listPhotos(input, state) {
    const list = photoList(input);
    list.replaceChildren(
      ...Array.from(input.files, (file) => {
        const row = document.getElementById("photo-row").content.firstElementChild.cloneNode(true);
        row.querySelector("[data-name]").textContent = file.name;
        row.querySelector("[data-state]").textContent =
          state === "ready" ? `${text.msgPhotoReady} (${kilobytes(file.size)})` : text.msgPhotoShrink;
        return row;
      }),
    );
    return Array.from(list.children);
  }

  async function shrinkChosen(input) {
    const rows = listPhotos(input, "shrinking");
    const small = [];
    // One at a time: a 12 MP photo decoded takes about 48 MB.
    for (const [index, file] of Array.from(input.files).entries()) {
      const result = await shrink(file);
      small.push(result);
      rows[index].querySelector("progress").value = 0;
      rows[index].querySelector("[data-state]").textContent =
        `${text.msgPhotoReady} (${kilobytes(result.size)})`;
    }
    const chosen = new DataTransfer();
    small.forEach((file) => chosen.items.add(file));
    input.files = chosen.files;
  }

  // Sending: each photo's row shows its share of the bytes that have gone up.
  function uploadProgress(form) {
    const rows = [];
    form.querySelectorAll("input[type=file]").forEach((input) => {
      if (!input.files.length) return;
      const shown = photoList(input).children;
      Array.from(input.files).forEach((file, index) => rows.push([file.size, shown[index]]));
    });
    return (loaded) => {
      let start = 0;
      rows.forEach(([size, row]) => {
        if (!row) return;
        const percent = Math.round(100 * Math.min(1, Math.max(0, (loaded - start) / size)));
        row.querySelector("progress").value = percent;
        row.querySelector("[data-state]").textContent = `${text.msgSending} ${percent}%`;
        start += size;
      });
    };
  }

  // --- sending ---------------------------------------------------------------------------------

  function say(form, message, kind) {
    let note = form.querySelector(".form-message");
    if (!note) {
      note = document.createElement("p");
      const buttons = form.querySelector("button[type=submit], button:not([type])");
      const place =
        (buttons && buttons.closest(".actions, .quick-actions, .tools")) || buttons || form.lastChild;
      place.insertAdjacentElement("afterend", note);
    }
    note.className = `form-message flash flash-${kind}`;
    note.setAttribute("role", kind === "error" ? "alert" : "status");
    note.textContent = message;
    note.scrollIntoView({ block: "center" });
  }

  function go(location) {
    const target = new URL(location, window.location.href);
    const here = window.location;
    if (target.pathname === here.pathname && target.search === here.search) {
      // Only the #fragment differs: assign() would merely scroll, without the new data and
      // the messages waiting for the next page.
      here.hash = target.hash;
      here.reload();
    } else {
      here.assign(target.href);
    }
  }

  function showPage(html) {
    // A form with its errors, the conflict page or an error page: shown in place, as a plain
    // form post would have shown it.
    const page = new DOMParser().parseFromString(html, "text/html");
    document.replaceChild(document.adoptNode(page.documentElement), document.documentElement);
    enhance();
    const problem = document.querySelector(".conflict, [aria-invalid=true], .flash-error");
    if (problem) problem.scrollIntoView({ block: "center" });
    else window.scrollTo(0, 0);
  }

  function post(action, data, key, progress) {
    return new Promise((resolve) => {
      const request = new XMLHttpRequest();
      request.open("POST", action);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("Idempotency-Key", key);
      request.upload.onprogress = (event) => progress(event.loaded);
      request.onload = () =>
        resolve({
          status: request.status,
          type: request.getResponseHeader("Content-Type") || "",
          body: request.responseText,
        });
      request.onerror = () => resolve(null);
      request.send(data);
    });
  }

  // A button marked data-moves-on saves what is filled in and then opens a screen only the
  // server can make (the next step of quick add). Without signal the filled-in part still goes
  // to the outbox, but the next screen cannot open: the person is told to tap again later
  // instead of meeting the "No signal" page, and an untouched form is not queued at all.
  const movesOn = (submitter) => Boolean(submitter && submitter.hasAttribute("data-moves-on"));
  const untouched = (form) => comparable(snapshot(form)) === loaded.get(form);

  async function toOutbox(form, action, data, submitter) {
    const queued = [];
    for (const [name, value] of data.entries()) {
      if (!(value instanceof Blob)) queued.push([name, value]);
      else if (value.size > 0 || value.name) queued.push([name, value, value.name]);
    }
    await outbox.add({
      user,
      key: data.get(KEY_FIELD),
      action,
      page: location.pathname + location.search,
      title: document.title,
      fields: queued,
    });
    await forgetDraft(form);
    form.reset();
    clearPhotoProgress(form);
    form.querySelectorAll(".keep-note").forEach((note) => note.remove());
    renewKey(form);
    say(form, movesOn(submitter) ? `${text.msgQueued} ${text.msgNeedsSignal}` : text.msgQueued, "info");
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.ready
        .then((registration) => registration.sync && registration.sync.register(outbox.SYNC_TAG))
        .catch(() => {});
    }
    showOutbox();
  }

  function busy(form, on) {
    form.toggleAttribute("aria-busy", on);
    form.querySelectorAll("button[type=submit], button:not([type])").forEach((button) => {
      button.disabled = on;
    });
  }

  async function submit(form, submitter) {
    busy(form, true);
    try {
      await (shrinking.get(form) || Promise.resolve());
      const data = new FormData(form);
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
      const action =
        submitter && submitter.hasAttribute("formaction") ? submitter.formAction : form.action;
      if (!navigator.onLine && movesOn(submitter) && untouched(form)) {
        say(form, text.msgNeedsSignal, "info");
        return;
      }
      if (!navigator.onLine) {
        await toOutbox(form, action, data, submitter);
        return;
      }
      const answer = await post(action, data, data.get(KEY_FIELD), uploadProgress(form));
      if (answer === null) {
        await toOutbox(form, action, data, submitter); // the signal dropped on the way
      } else if (answer.type.startsWith("application/json")) {
        await forgetDraft(form);
        go(JSON.parse(answer.body).location);
        return;
      } else if (failed(answer.status) || !answer.type.startsWith("text/html")) {
        say(form, text.msgFailed, "error");
      } else {
        showPage(answer.body);
        return;
      }
    } finally {
      if (form.isConnected) busy(form, false);
    }
  }

  // --- the outbox ------------------------------------------------------------------------------

  async function showOutbox() {
    const bar = document.getElementById("offline");
    if (!bar) return;
    const items = await outbox.list(user);
    const waiting = items.filter((item) => item.state === "waiting").length;
    bar.hidden = items.length === 0;
    bar.querySelector("[data-outbox-count]").textContent = waiting
      ? (waiting === 1 ? text.one : text.many).replace("{n}", waiting)
      : "";
    bar.querySelector("[data-outbox-send]").hidden = waiting === 0;
    const refused = bar.querySelector("[data-outbox-refused]");
    refused.replaceChildren(
      ...items
        .filter((item) => item.state === "refused")
        .map((item) => {
          const row = document.getElementById("refused-row").content.firstElementChild.cloneNode(true);
          row.querySelector("[data-title]").textContent = item.title;
          row.querySelector("button").addEventListener("click", () => openRefused(item));
          return row;
        }),
    );
  }

  async function openRefused(item) {
    await outbox.remove(item.id);
    history.replaceState(null, "", item.page);
    showPage(item.html);
    // The values now live in the page shown: kept as a draft at once, as if typed here.
    document.querySelectorAll("form[data-draft]").forEach((form) => {
      if (form.action === item.action) {
        db.set(form.dataset.draft, { values: snapshot(form) }, drafts);
      }
    });
  }

  let sending = null;
  function sendOutbox() {
    if (!sending) {
      const bar = document.getElementById("offline");
      if (bar) bar.setAttribute("aria-busy", "true");
      sending = outbox
        .send(user)
        .then((result) => {
          const count = document.querySelector("#offline [data-outbox-count]");
          if (result.loggedOut && count) count.textContent = text.msgLogin;
          return result;
        })
        .finally(() => {
          sending = null;
          const current = document.getElementById("offline");
          if (current) current.removeAttribute("aria-busy");
          showOutbox();
        });
    }
    return sending;
  }

  // --- logging out ---------------------------------------------------------------------------

  async function forgetEverything() {
    await Promise.all([db.clear(drafts), outbox.clear()]);
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "logout" });
    }
    if (window.caches) {
      const names = await caches.keys();
      await Promise.all(names.filter((name) => name.startsWith("pasar-")).map((name) => caches.delete(name)));
    }
  }

  function ask(dialog, waiting) {
    dialog.querySelector("[data-count]").textContent = (waiting === 1 ? text.one : text.many).replace(
      "{n}",
      waiting,
    );
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true });
      dialog.showModal();
    });
  }

  async function logOut(form) {
    const dialog = document.getElementById("logout-dialog");
    let left = (await outbox.list(user)).length;
    while (left && dialog) {
      const choice = await ask(dialog, left);
      if (choice === "send") {
        await sendOutbox();
        left = (await outbox.list(user)).length;
      } else if (choice === "discard") {
        break;
      } else {
        return; // cancelled: stay logged in
      }
    }
    await forgetEverything();
    form.submit();
  }

  // --- wiring --------------------------------------------------------------------------------

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.hasAttribute("data-logout")) {
      event.preventDefault();
      logOut(form);
      return;
    }
    if (!takesPart(form) || !form.dataset.draft) return;
    event.preventDefault();
    if (!form.hasAttribute("aria-busy")) submit(form, event.submitter);
  });

  const typed = (event) => {
    const form = event.target.form;
    if (form && takesPart(form) && form.dataset.draft && event.target.type !== "file") {
      saveDraft(form);
    }
  };
  document.addEventListener("input", typed);
  document.addEventListener("change", (event) => {
    const input = event.target;
    if (input.type !== "file" || !input.form || !input.form.dataset.draft) {
      typed(event);
      return;
    }
    const form = input.form;
    const done = shrinkChosen(input).then(() => saveDraft(form));
    shrinking.set(form, done);
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-outbox-send]")) sendOutbox();
  });
  window.addEventListener("online", () => sendOutbox());

  enhance();
  if (navigator.onLine) sendOutbox();
})();
