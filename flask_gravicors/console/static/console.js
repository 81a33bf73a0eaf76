// The flask-gravicors console's conveniences. Every page works without them.
"use strict";

// The Cors tab: turning "Enable CORS" off greys out the other fields, as
// Gravitee's console does. They stay in the form (inert, not disabled), so Save
// keeps their values.
function followEnabled() {
  const enabled = document.getElementById("enabled");
  const fields = document.getElementById("cors-fields");
  if (!enabled || !fields) return;
  const update = () => {
    const off = !enabled.checked;
    fields.classList.toggle("off", off);
    fields.inert = off;
    fields.setAttribute("aria-disabled", off ? "true" : "false");
  };
  enabled.addEventListener("change", update);
  update();
}

// Typing "*" as an origin shows the seed's danger hint at once.
function followStar() {
  const origins = document.getElementById("allow_origin");
  const hint = document.getElementById("star-hint");
  if (!origins || !hint) return;
  const update = () => {
    hint.hidden = !origins.value.split("\n").some((line) => line.trim() === "*");
  };
  origins.addEventListener("input", update);
  update();
}

// After a save: "live on N of M workers", asked again until every worker runs it.
function followLive() {
  const live = document.getElementById("live");
  if (!live || !live.dataset.statusUrl) return;
  const deadline = Date.now() + 60000;
  const poll = async () => {
    try {
      const response = await fetch(live.dataset.statusUrl, {headers: {Accept: "application/json"}, credentials: "same-origin"});
      if (response.ok) {
        const status = await response.json();
        live.textContent = status.text;
        if (status.done) return;
      }
    } catch (error) {
      // The server is restarting or unreachable: ask again.
    }
    if (Date.now() < deadline) setTimeout(poll, 300);
  };
  poll();
}

document.addEventListener("DOMContentLoaded", () => {
  followEnabled();
  followStar();
  followLive();
});
