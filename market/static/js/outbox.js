// The outbox: forms submitted without signal wait on the phone (IndexedDB) and go to the server
// in the order they were made once the signal is back. Shared by the back-office pages and the
// service worker (Background Sync): both call send(), a lock keeps them from sending at the
// same time, and each item's idempotency key makes even a repeated send harmless.
(function (scope) {
  "use strict";
  const db = scope.idbKeyval;
  const items = db.createStore("pasar-outbox", "items");
  // What the pages tell the worker: the current form token of each user.
  const session = db.createStore("pasar-session", "values");
  const SYNC_TAG = "pasar-outbox";
  let sequence = 0;

  function newKey() {
    if (scope.crypto.randomUUID) return scope.crypto.randomUUID();
    return Array.from(scope.crypto.getRandomValues(new Uint8Array(16)), (byte) =>
      byte.toString(16).padStart(2, "0"),
    ).join("");
  }

  // fields: [name, value] or [name, Blob, filename], as FormData holds them.
  async function add(item) {
    sequence += 1;
    // Sorting the ids sorts the items by the moment they were made.
    const id = `${Date.now().toString(36).padStart(10, "0")}-${String(sequence).padStart(4, "0")}`;
    const stored = { ...item, id, state: "waiting" };
    await db.set(id, stored, items);
    return stored;
  }

  async function list(user) {
    const all = await db.values(items);
    return all.filter((item) => item.user === user).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  function body(item, token) {
    const data = new FormData();
    item.fields.forEach(([name, value, filename]) => {
      if (name === "csrf_token" && token) data.append(name, token);
      else if (filename === undefined) data.append(name, value);
      else data.append(name, value, filename);
    });
    return data;
  }

  // The server answers a sent form with where to go next (JSON); any other answer is a page
  // the person must see (invalid input, a conflict with a change made meanwhile).
  async function post(item, token) {
    const response = await fetch(item.action, {
      method: "POST",
      body: body(item, token),
      credentials: "same-origin",
      headers: { Accept: "application/json", "Idempotency-Key": item.key },
    });
    if (response.redirected) return { loggedOut: true }; // sent to the login page
    const type = response.headers.get("Content-Type") || "";
    if (response.ok && type.startsWith("application/json")) {
      return { location: (await response.json()).location };
    }
    // The server is busy, overloaded or still finishing an earlier copy: nothing was refused,
    // so the item waits (and the ones after it, to keep the order) for the next try.
    if (response.status >= 500 || response.status === 429 || response.headers.has("Retry-After")) {
      return { later: true };
    }
    return { refused: true, status: response.status, html: await response.text() };
  }

  async function sendAll(user) {
    const token = await db.get(`token:${user}`, session);
    let sent = 0;
    for (const item of await list(user)) {
      if (item.state !== "waiting") continue;
      let answer;
      try {
        answer = await post(item, token);
      } catch (error) {
        return { sent, stopped: true }; // no signal: the rest waits, in order
      }
      if (answer.loggedOut) return { sent, stopped: true, loggedOut: true };
      if (answer.later) return { sent, stopped: true };
      if (answer.refused) {
        await db.set(item.id, { ...item, state: "refused", html: answer.html }, items);
      } else {
        await db.del(item.id, items);
        sent += 1;
      }
    }
    return { sent, stopped: false };
  }

  function send(user) {
    const locks = scope.navigator.locks;
    return locks ? locks.request(SYNC_TAG, () => sendAll(user)) : sendAll(user);
  }

  scope.PasarOutbox = {
    SYNC_TAG,
    add,
    list,
    send,
    newKey,
    remove: (id) => db.del(id, items),
    rememberToken: (user, token) => db.set(`token:${user}`, token, session),
    // Everything of every user on this phone: what logging out leaves behind is nothing.
    clear: () => Promise.all([db.clear(items), db.clear(session)]),
  };
})(self);
