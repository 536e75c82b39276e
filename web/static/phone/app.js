// Installable web app: register the service worker that keeps the static shell offline.
if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js", {scope: "/"}).catch(() => {});
}
