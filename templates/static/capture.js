// The point's camera or document scanner, in the browser (getUserMedia), on the draft's page: a page
// is captured as a JPEG and put into the slot's own file input, whose upload form is then submitted,
// so a capture takes exactly the path of an upload (checked by content, scanned by clamd, stored).
(function () {
  "use strict";
  var dialog = document.getElementById("camera");
  if (!dialog || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.DataTransfer) {
    return;  // no camera here: the page keeps its upload buttons only
  }
  var video = document.getElementById("camera-video");
  var shoot = document.getElementById("camera-shoot");
  var problem = document.getElementById("camera-error");
  var stream = null, slot = null;

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.srcObject = null;
  }

  function close() {
    stop();
    if (dialog.open) { dialog.close(); }
  }

  function open(code) {
    slot = code;
    problem.hidden = true;
    shoot.disabled = true;
    dialog.showModal();
    // The rear camera of a tablet, or the document camera / scanner plugged into the counter's PC.
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment", width: { ideal: 1920 } }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        return video.play();
      })
      .then(function () { shoot.disabled = false; })
      .catch(function () {
        problem.textContent = problem.dataset.denied;
        problem.hidden = false;
      });
  }

  function capture() {
    if (!stream || !video.videoWidth) { return; }
    shoot.disabled = true;
    var canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      var input = document.getElementById("file-" + slot);
      var upload = document.getElementById("upload-" + slot);
      if (!blob || !input || !upload || !input.form) { shoot.disabled = false; return; }
      var transfer = new DataTransfer();
      transfer.items.add(new File([blob], "camera-" + slot + "-" + Date.now() + ".jpg", { type: "image/jpeg" }));
      input.files = transfer.files;
      stop();
      input.form.requestSubmit(upload);  // the same upload, the same checks, the page comes back with it
    }, "image/jpeg", 0.9);
  }

  document.querySelectorAll("[data-camera]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { open(button.dataset.camera); });
  });
  shoot.addEventListener("click", capture);
  document.getElementById("camera-close").addEventListener("click", close);
  dialog.addEventListener("cancel", stop);
  window.addEventListener("pagehide", stop);
})();
