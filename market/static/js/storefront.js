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
})();
