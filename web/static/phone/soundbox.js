// The soundbox ("loa báo tiền"): payments arrive over Server-Sent Events (the session cookie
// signs the feed in), each is shown large and read aloud by playing the clips the server chose
// (chime, "đã nhận", the amount, "đồng") back to back with Web Audio. Never twice for one
// payment (ids kept in localStorage); after a lost connection one summary of what came in
// meanwhile; connection state always shown; the screen kept on with a Wake Lock.
(() => {
  "use strict";
  const root = document.getElementById("soundbox");
  if (!root) return;
  const T = JSON.parse(root.dataset.texts);
  const $ = (id) => document.getElementById(id);
  const seenKey = "cho.soundbox.seen." + root.dataset.vendor;
  const MAX_SEEN = 200;
  let seen = [];
  try { seen = JSON.parse(localStorage.getItem(seenKey) || "[]"); } catch (e) { seen = []; }
  let done = Number(root.dataset.after) || 0;
  let source = null;
  let reconnecting = false; // a connection after a loss: its backlog becomes one summary
  let held = [];
  let audio = null;
  let wakeLock = null;
  const buffers = new Map();
  let queue = Promise.resolve();
  let lastHeard = Date.now();
  const SILENCE_MS = 40000;
  const RETRY_MS = 2000;
  const GAP_MS = 5000; // the clock ticks every second; a longer gap means the script slept
  let lastTick = Date.now();

  function remember(id) {
    seen.push(id);
    if (seen.length > MAX_SEEN) seen = seen.slice(-MAX_SEEN);
    try { localStorage.setItem(seenKey, JSON.stringify(seen)); } catch (e) { /* private mode */ }
  }

  function state(name) {
    const conn = $("conn");
    conn.dataset.state = name;
    conn.textContent = T[name];
  }

  // ---- audio
  function clip(key) {
    if (!buffers.has(key)) {
      buffers.set(key, fetch("/static/clips/" + key + ".ogg")
        .then((r) => r.arrayBuffer())
        .then((data) => audio.decodeAudioData(data)));
    }
    return buffers.get(key);
  }

  function say(clips, words) {
    const line = document.createElement("li");
    line.dataset.clips = clips.join(" ");
    line.textContent = words;
    $("spoken").append(line);
    root.dataset.lastClips = line.dataset.clips;
    queue = queue.then(async () => {
      if (!audio) { line.dataset.played = "muted"; return; }
      const parts = await Promise.all(clips.map(clip));
      let at = audio.currentTime + 0.05;
      for (const buffer of parts) {
        const node = audio.createBufferSource();
        node.buffer = buffer;
        node.connect(audio.destination);
        node.start(at);
        at += buffer.duration;
      }
      await new Promise((done) => setTimeout(done, (at - audio.currentTime) * 1000));
      line.dataset.played = "yes";
      speakAlso(words);
    }).catch(() => { line.dataset.played = "failed"; });
  }

  // An optional second voice: the phone's own Vietnamese voice, offered only when it has one
  // (Android may otherwise read the words with an English voice).
  const speech = window.speechSynthesis;
  function vietnameseVoice() {
    return speech ? speech.getVoices().find((v) => /^vi([-_]|$)/i.test(v.lang)) : undefined;
  }
  function offerVoice() { if (vietnameseVoice()) $("voice-box").hidden = false; }
  function speakAlso(words) {
    const voice = vietnameseVoice();
    if (!voice || !$("second-voice").checked) return;
    const utterance = new SpeechSynthesisUtterance(words);
    utterance.lang = voice.lang;
    utterance.voice = voice;
    speech.speak(utterance);
  }
  if (speech && speech.addEventListener) speech.addEventListener("voiceschanged", offerVoice);
  offerVoice();

  async function unlock() {
    audio = audio || new AudioContext();
    await audio.resume();
    $("sound-state").textContent = T.sound_on;
    $("unlock").setAttribute("aria-pressed", "true");
    root.dataset.audio = "on";
    keepAwake();
  }

  async function keepAwake() {
    if (!("wakeLock" in navigator)) { $("wake-state").textContent = T.not_awake; return; }
    try {
      wakeLock = await navigator.wakeLock.request("screen");
      $("wake-state").textContent = T.awake;
    } catch (e) {
      $("wake-state").textContent = T.not_awake;
    }
  }

  // ---- the feed
  function show(event, note) {
    const item = document.createElement("li");
    item.dataset.id = event.id;
    item.dataset.type = event.type;
    const amount = document.createElement("strong");
    amount.textContent = event.data.amount_text;
    const time = new Date(event.created_at).toLocaleTimeString("vi-VN", {hour: "2-digit", minute: "2-digit", timeZone: "Asia/Ho_Chi_Minh"});
    item.append(amount, " · " + time + " · " + (event.data.memo || ""));
    if (note) {
      const warn = document.createElement("p");
      warn.className = event.tiny ? "warn" : "muted";
      warn.textContent = note;
      item.append(warn);
    }
    if (event.tiny) item.classList.add("tiny");
    $("feed").prepend(item);
  }

  function showLast(text, words, tiny) {
    const box = $("last");
    box.replaceChildren();
    const big = document.createElement("p");
    big.className = "big-amount";
    big.textContent = text;
    const said = document.createElement("p");
    said.textContent = words;
    box.append(big, said);
    if (tiny) {
      const warn = document.createElement("p");
      warn.className = "warn";
      warn.textContent = T.tiny;
      box.append(warn);
    }
  }

  function addToToday(event) {
    if (event.data.business_day !== root.dataset.today) return;
    const total = $("today-total");
    const count = $("today-count");
    total.dataset.total = Number(total.dataset.total) + event.data.amount;
    count.dataset.count = Number(count.dataset.count) + 1;
    total.textContent = Number(total.dataset.total).toLocaleString("vi-VN") + "\u00a0₫";
    count.textContent = count.dataset.count;
  }

  // Every payment is handled once: shown, counted in today's total, and said alone or in one
  // summary. `done` is the feed position up to which everything was handled; a reconnection
  // starts there, so what arrived but was not yet handled comes again and joins the summary.
  function handled(event) {
    remember(event.id);
    done = Math.max(done, event.seq);
    addToToday(event);
    show(event, event.tiny ? T.tiny : "");
  }

  function announce(event) {
    handled(event);
    showLast(T.received + " " + event.data.amount_text, event.words, event.tiny);
    say(event.clips, event.words);
  }

  // A page whose script was suspended (a tab frozen in a pocket, a phone asleep) may be handed
  // what the stream buffered meanwhile all at once: drop it and reconnect, so it comes again
  // as a backlog and is said as one summary.
  function woke() {
    const gap = Date.now() - lastTick;
    lastTick = Date.now();
    if (gap <= GAP_MS || !source) return false;
    lose();
    connect();
    return true;
  }

  function parse(message) {
    if (woke()) return null;
    lastHeard = Date.now();
    const event = JSON.parse(message.data);
    event.seq = Number(message.lastEventId) || 0;
    return event;
  }

  function onPayment(message) {
    const event = parse(message);
    if (!event) return;
    if (seen.includes(event.id)) { done = Math.max(done, event.seq); return; }
    if (reconnecting) { held.push(event); return; }
    announce(event);
  }

  function onRefund(message) {
    const event = parse(message);
    if (!event) return;
    done = Math.max(done, event.seq);
    if (seen.includes(event.id)) return;
    remember(event.id);
    show(event, T.refunded);
  }

  function onCaughtUp(message) {
    lastHeard = Date.now();
    const summary = JSON.parse(message.data).summary;
    const missed = held;
    const wasReconnecting = reconnecting;
    held = [];
    reconnecting = false;
    if (!missed.length) return;
    if (!wasReconnecting || !summary || summary.count !== missed.length || missed.length === 1) {
      missed.forEach(announce); // some were handled before: each of the others, none twice
      return;
    }
    missed.forEach(handled);
    const text = T.summary.replace("{count}", summary.count).replace("{total}", summary.total_text);
    showLast(text, summary.words, false);
    say(summary.clips, summary.words);
  }

  function lose() {
    if (source) source.close();
    source = null;
    held = [];
    reconnecting = true;
    state("lost");
  }

  function connect() {
    if (source) source.close();
    held = [];
    state(reconnecting ? "lost" : "connecting");
    lastHeard = Date.now();
    source = new EventSource("/v/events?after=" + done);
    source.onopen = () => { lastHeard = Date.now(); state("live"); };
    source.addEventListener("ping", () => { lastHeard = Date.now(); });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) { source = null; state("ended"); return; }
      lose(); // reconnect ourselves, from what was handled
      setTimeout(() => { if (!source && navigator.onLine) connect(); }, RETRY_MS);
    };
    source.addEventListener("payment.received", onPayment);
    source.addEventListener("payment.refunded", onRefund);
    source.addEventListener("payment.reversed", onRefund);
    source.addEventListener("caught-up", onCaughtUp);
  }

  $("unlock").addEventListener("click", unlock);
  $("test-sound").addEventListener("click", async () => {
    if (!audio) await unlock();
    say(root.dataset.testClips.split(" "), root.dataset.testWords);
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && audio) keepAwake();
  });
  // Android freezes a tab in a pocket: close the feed, and on resume reconnect and summarise.
  document.addEventListener("freeze", lose);
  document.addEventListener("resume", () => { reconnecting = true; connect(); });
  // The phone lost its network: an open stream may hang silently, so drop it and say so.
  window.addEventListener("offline", () => { lose(); });
  window.addEventListener("online", () => { if (!source) { reconnecting = true; connect(); } });
  // A stream that fell silent (no ping for 40 s) is dead even if the socket looks open.
  setInterval(() => {
    if (source && Date.now() - lastHeard > SILENCE_MS) { lose(); connect(); }
  }, 5000);
  setInterval(woke, 1000);
  connect();
})();
