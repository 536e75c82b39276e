// Scan a stall's board with the phone's camera: frames from getUserMedia are decoded by the
// vendored jsQR; the first code read fills the form, which asks the server who it pays.
(() => {
  "use strict";
  const box = document.getElementById("camera-box");
  if (!box) return;
  const T = JSON.parse(box.dataset.texts);
  const video = document.getElementById("camera");
  const status = document.getElementById("camera-state");
  const form = document.getElementById("scan-form");
  const field = document.getElementById("f-payload");
  const canvas = document.createElement("canvas");
  const draw = canvas.getContext("2d", {willReadFrequently: true});
  let stream = null;

  function stop() {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
  }

  function look() {
    if (!stream) return;
    if (video.readyState >= video.HAVE_CURRENT_DATA && video.videoWidth) {
      const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      draw.drawImage(video, 0, 0, canvas.width, canvas.height);
      const frame = draw.getImageData(0, 0, canvas.width, canvas.height);
      const found = window.jsQR(frame.data, frame.width, frame.height, {inversionAttempts: "dontInvert"});
      if (found && found.data) {
        status.textContent = T.found;
        field.value = found.data;
        stop();
        form.requestSubmit();
        return;
      }
    }
    requestAnimationFrame(look);
  }

  async function start() {
    status.textContent = T.starting;
    try {
      stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false});
    } catch (e) {
      status.textContent = T.denied;
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    status.textContent = T.aim;
    requestAnimationFrame(look);
  }

  document.getElementById("start-camera").addEventListener("click", start);
  window.addEventListener("pagehide", stop);
})();
