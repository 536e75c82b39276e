// The slip's "Chia sẻ" button: the phone's share sheet (Zalo, Messenger…) where Web Share
// exists; elsewhere the button stays hidden and the download link does the job.
(() => {
  "use strict";
  const button = document.getElementById("share");
  if (!button || !navigator.share) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    navigator.share({title: button.dataset.title, text: button.dataset.text}).catch(() => {});
  });
})();
