// Scan a stall's board with the phone's camera: frames from getUserMedia are decoded by the
// vendored jsQR; the first code read fills the form, which asks the server who it pays. A photo
// of the board (taken or chosen, for a phone whose camera the page may not use) is read the same.
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
      const data = decode(video, video.videoWidth, video.videoHeight, "dontInvert", 800);
      if (data) {
        status.textContent = T.found;
        field.value = data;
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

  // the code in `source`, drawn at most `limit` pixels wide or high, or null
  function decode(source, width, height, attempts, limit) {
    const scale = Math.min(1, limit / Math.max(width, height));
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    draw.drawImage(source, 0, 0, canvas.width, canvas.height);
    const frame = draw.getImageData(0, 0, canvas.width, canvas.height);
    const found = window.jsQR(frame.data, frame.width, frame.height, {inversionAttempts: attempts});
    return found && found.data ? found.data : null;
  }

  const photo = document.getElementById("photo");
  const photoState = document.getElementById("photo-state");

  async function readPhoto() {
    const file = photo.files && photo.files[0];
    if (!file) return;
    photoState.textContent = T.reading;
    let picture = null;
    try {
      picture = await createImageBitmap(file);
    } catch (e) {
      photoState.textContent = T.nocode;
      return;
    }
    const data = decode(picture, picture.width, picture.height, "attemptBoth", 1600);
    picture.close();
    if (!data) {
      photoState.textContent = T.nocode;
      return;
    }
    photoState.textContent = T.found;
    field.value = data;
    form.requestSubmit();
  }

  document.getElementById("start-camera").addEventListener("click", start);
  if (photo) photo.addEventListener("change", readPhoto);
  window.addEventListener("pagehide", stop);
})();
