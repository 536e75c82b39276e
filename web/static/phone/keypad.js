// The sell screen's keypad: big keys that type into the amount box (which still takes typing).
(() => {
  "use strict";
  const pad = document.getElementById("keypad");
  const input = document.getElementById("f-amount");
  if (!pad || !input) return;
  pad.hidden = false;
  const group = (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  pad.addEventListener("click", (event) => {
    const key = event.target.closest("button")?.dataset.key;
    if (!key) return;
    let digits = input.value.replace(/\D/g, "");
    digits = key === "back" ? digits.slice(0, -1) : (digits + key).replace(/^0+/, "").slice(0, 9);
    input.value = group(digits);
  });
})();
