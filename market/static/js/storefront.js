// Small enhancements of the public pages; each works as a plain link or button without it.
(function () {
  "use strict";

  // YouTube facade: the thumbnail link becomes the privacy-enhanced player only when asked.
  function playVideo(link) {
    var frame = document.createElement("iframe");
    frame.src = link.getAttribute("data-embed");
    frame.title = link.getAttribute("data-title") || "";
    frame.className = "vlog-frame";
    frame.allow = "autoplay; encrypted-media; picture-in-picture; fullscreen";
    frame.setAttribute("allowfullscreen", "");
    link.replaceWith(frame);
    frame.focus();
  }

  // Share: the phone's share sheet, else copy the link; the plain link shares on WhatsApp.
  function share(link) {
    var url = link.getAttribute("data-url");
    var title = link.getAttribute("data-title");
    var status = link.nextElementSibling;
    if (navigator.share) {
      navigator.share({ title: title, url: url }).catch(function () {});
      return true;
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(function () {
        if (status) status.textContent = link.getAttribute("data-copied");
      });
      return true;
    }
    return false;
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-embed], [data-share], [data-print]");
    if (!target) return;
    if (target.hasAttribute("data-embed")) {
      event.preventDefault();
      playVideo(target);
    } else if (target.hasAttribute("data-share")) {
      if (share(target)) event.preventDefault();
    } else {
      window.print();
    }
  });

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
  });

  // "Open now": cached pages are shared by every visitor for as long as the market does not
  // change, so the label comes from the visitor's clock in the market's time zone, not from
  // the server (services/hours.py). Without this the page shows the week's hours.
  var WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

  function minutes(time) {
    var parts = time.split(":");
    return Number(parts[0]) * 60 + Number(parts[1]);
  }

  function marketNow(zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    }).formatToParts(new Date()).forEach(function (part) { parts[part.type] = part.value; });
    return { day: WEEKDAYS.indexOf(parts.weekday), minute: Number(parts.hour) * 60 + Number(parts.minute) };
  }

  function openNow(data) {
    var now = marketNow(data.timezone);
    var clock = function (time) { return time.replace(":", data.clock); };
    var today = data.week[now.day];
    if (today && minutes(today[0]) <= now.minute && now.minute < minutes(today[1])) {
      return { open: true, text: data.open.replace("%(time)s", clock(today[1])) };
    }
    for (var ahead = 0; ahead <= 7; ahead++) {
      var index = (now.day + ahead) % 7;
      var hours = data.week[index];
      if (!hours || (ahead === 0 && minutes(hours[0]) <= now.minute)) continue;
      var text = ahead === 0 ? data.later : data.closed.replace("%(day)s", data.days[index]);
      return { open: false, text: text.replace("%(time)s", clock(hours[0])) };
    }
    return null;
  }

  function showOpenNow() {
    document.querySelectorAll("[data-open-now]").forEach(function (label) {
      var state = openNow(JSON.parse(label.getAttribute("data-open-now")));
      if (!state) return;
      label.textContent = state.text;
      label.className = "open-now " + (state.open ? "is-open" : "is-closed");
      label.hidden = false;
    });
  }
  showOpenNow();
  setInterval(showOpenNow, 60000);
})();
