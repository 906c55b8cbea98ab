// Photo uploads: shrink large photos in the browser to save mobile data, and show progress.
// Without this script the same forms post the original files, and the server checks
// everything either way. Forms opt in with a data-upload attribute.
(function () {
  "use strict";

  // The widest variant the server keeps is 1600 px; larger files only cost data.
  var MAX_WIDTH = 1600;
  var SHRINK_ABOVE_BYTES = 1024 * 1024;
  var JPEG_QUALITY = 0.85;
  var DECODABLE = /^image\/(jpeg|png|webp|heic|heif)$/;

  function shrink(file) {
    if (!DECODABLE.test(file.type) || file.size < SHRINK_ABOVE_BYTES) {
      return Promise.resolve(file);
    }
    return new Promise(function (resolve) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        // Browsers apply the EXIF orientation when they decode, so the canvas is upright;
        // the canvas also leaves all metadata (GPS above all) behind on the phone.
        var scale = Math.min(1, MAX_WIDTH / img.naturalWidth);
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(img.naturalWidth * scale);
        canvas.height = Math.round(img.naturalHeight * scale);
        var context = canvas.getContext("2d");
        context.fillStyle = "#fff"; // transparent areas become white, as on the server
        context.fillRect(0, 0, canvas.width, canvas.height);
        context.drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(url);
        canvas.toBlob(
          function (blob) {
            if (!blob || blob.size >= file.size) {
              resolve(file);
              return;
            }
            var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
            resolve(new File([blob], name, { type: "image/jpeg" }));
          },
          "image/jpeg",
          JPEG_QUALITY
        );
      };
      img.onerror = function () {
        // A format this browser cannot decode (HEIC on most): the server will handle it.
        URL.revokeObjectURL(url);
        resolve(file);
      };
      img.src = url;
    });
  }

  // One at a time: a phone holds a single decoded 12 MP photo in memory, not ten.
  function shrinkAll(files) {
    var done = [];
    return files.reduce(function (chain, file) {
      return chain.then(function () {
        return shrink(file).then(function (small) {
          done.push(small);
        });
      });
    }, Promise.resolve()).then(function () {
      return done;
    });
  }

  function go(location) {
    var target = new URL(location, window.location.href);
    var here = window.location;
    if (target.pathname === here.pathname && target.search === here.search) {
      // Only the #fragment differs: assign() would merely scroll, without the new photos
      // and the messages waiting for the next page.
      here.hash = target.hash;
      here.reload();
    } else {
      here.assign(target.href);
    }
  }

  function showPage(html) {
    // The server answered with a page (a form with its errors, or an error page): show it
    // in place, as a plain form post would have.
    var page = new DOMParser().parseFromString(html, "text/html");
    document.replaceChild(document.adoptNode(page.documentElement), document.documentElement);
    window.scrollTo(0, 0);
    enhance(document);
  }

  function send(form, data, status) {
    var bar = status.querySelector("progress");
    var text = status.querySelector("[role=status]");
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.upload.onprogress = function (event) {
      if (event.lengthComputable) {
        var percent = Math.round((100 * event.loaded) / event.total);
        bar.value = percent;
        text.textContent = form.dataset.msgSend + " " + percent + "%";
      }
    };
    request.onload = function () {
      var type = request.getResponseHeader("Content-Type") || "";
      if (type.indexOf("application/json") === 0) {
        go(JSON.parse(request.responseText).location);
      } else if (type.indexOf("text/html") === 0) {
        showPage(request.responseText);
      } else {
        fail(form, status);
      }
    };
    request.onerror = function () {
      fail(form, status);
    };
    request.send(data);
  }

  function fail(form, status) {
    status.querySelector("[role=status]").textContent = form.dataset.msgFailed;
    form.removeAttribute("aria-busy");
    setDisabled(form, false);
  }

  function setDisabled(form, disabled) {
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = disabled;
    });
  }

  function onSubmit(event) {
    var form = event.target;
    var inputs = Array.prototype.slice.call(form.querySelectorAll("input[type=file]"));
    var chosen = inputs.some(function (input) {
      return input.files.length > 0;
    });
    var status = form.querySelector(".upload-status");
    if (!chosen || !status || !window.FormData || !window.Promise) {
      return; // nothing to shrink: let the browser post the form as it is
    }
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") {
      return;
    }
    form.setAttribute("aria-busy", "true");
    setDisabled(form, true);
    status.hidden = false;
    status.querySelector("[role=status]").textContent = form.dataset.msgShrink;
    var data = new FormData(form);
    inputs
      .reduce(function (chain, input) {
        return chain.then(function () {
          data.delete(input.name);
          return shrinkAll(Array.prototype.slice.call(input.files)).then(function (files) {
            files.forEach(function (file) {
              data.append(input.name, file, file.name);
            });
          });
        });
      }, Promise.resolve())
      .then(function () {
        send(form, data, status);
      });
  }

  function enhance(root) {
    root.querySelectorAll("form[data-upload]").forEach(function (form) {
      form.addEventListener("submit", onSubmit);
    });
  }

  enhance(document);
})();
