// The chat page's own behaviour (loaded in <head>): citations that open their source card
// (a pop-over on a phone), choosing an older answer to see its sources, copying an answer,
// the "searching" indicator, keeping the start of a new answer and its sources in view, and conversations
// kept in this browser (localStorage).
(() => {
  const NARROW = "(max-width: 760px)";
  const KEY = "ragcomm:";
  const MAX_KEPT = 50;

  function activate(turn) {
    turn = String(turn);
    document.querySelectorAll("#sources .rc-sources").forEach((s) => { s.hidden = s.dataset.turn !== turn; });
    document.querySelectorAll("#conversation .rc-turn").forEach((t) => {
      const on = t.dataset.turn === turn;
      t.classList.toggle("rc-active", on);
      const b = t.querySelector(".rc-show");
      if (b) b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  function flash(card) {
    card.classList.remove("rc-flash");
    void card.offsetWidth; // restart the animation
    card.classList.add("rc-flash");
  }

  function popover(card, opener) {
    let dialog = document.getElementById("rc-pop");
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.id = "rc-pop";
      dialog.setAttribute("aria-label", "Source");
      document.body.appendChild(dialog);
      dialog.addEventListener("click", (ev) => {
        if (ev.target === dialog || ev.target.closest(".rc-pop-close")) dialog.close();
      });
      dialog.addEventListener("close", () => { if (dialog.opener) dialog.opener.focus(); });
    }
    // a copy of the card, without its ids (they stay unique in the page)
    const copy = card.cloneNode(true);
    copy.querySelectorAll("[id]").forEach((el) => el.removeAttribute("id"));
    copy.removeAttribute("id");
    copy.removeAttribute("aria-labelledby");
    dialog.innerHTML = '<button type="button" class="rc-pop-close">Close</button>';
    dialog.appendChild(copy);
    const title = copy.querySelector("h4");
    dialog.setAttribute("aria-label", title ? title.textContent.trim() : "Source");
    dialog.opener = opener;
    dialog.showModal();
  }

  function openCard(turn, ref, opener) {
    activate(turn);
    const card = document.getElementById(`card-${turn}-${ref}`);
    if (!card) return;
    if (window.matchMedia(NARROW).matches) {
      popover(card, opener);
    } else {
      card.scrollIntoView({ block: "center" });
      flash(card);
      card.focus({ preventScroll: true });
    }
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (err) {
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      const ok = document.execCommand("copy");
      area.remove();
      return ok;
    }
  }

  document.addEventListener("click", async (ev) => {
    const cite = ev.target.closest(".rc-cite");
    if (cite) {
      ev.preventDefault();
      openCard(cite.dataset.turn, cite.dataset.ref, cite);
      return;
    }
    const show = ev.target.closest(".rc-show");
    if (show) {
      activate(show.dataset.turn);
      const section = document.querySelector(`#sources .rc-sources[data-turn="${show.dataset.turn}"]`);
      if (section) section.scrollIntoView({ block: "start" });
      return;
    }
    const copy = ev.target.closest(".rc-copy");
    if (copy) {
      const ok = await copyText(copy.dataset.copy || "");
      const said = copy.parentElement.querySelector(".rc-copied");
      if (said) said.textContent = ok ? "Copied, with its sources." : "Could not copy: select the text instead.";
      return;
    }
    const turn = ev.target.closest("#conversation .rc-turn");
    if (turn && !ev.target.closest("a, button")) activate(turn.dataset.turn);
  });

  // The page's load step (restoring the conversations kept in this browser) ends by calling
  // rcLoaded. A question sent before then waits for it: answered first, it would be wiped from
  // the page by the restore arriving after it. Never waits more than a minute.
  let loaded;
  const ready = new Promise((resolve) => { loaded = resolve; });
  setTimeout(loaded, 60000);
  window.rcLoaded = loaded;

  // The "searching" indicator: shown when a question is sent, replaced by the answer's arrival.
  window.rcBusy = async (...args) => {
    const box = document.querySelector("#progress");
    if (box) {
      const target = box.querySelector(".html-container > div, .prose") || box;
      target.innerHTML = '<p class="rc-busy" role="status"><span class="rc-spinner" aria-hidden="true"></span>' +
        "Searching the documents…</p>";
    }
    await ready;
    return args;
  };

  // A new answer: bring its question to the top, so the answer's first sentence is in view.
  let turns = 0;
  new MutationObserver(() => {
    const all = document.querySelectorAll("#conversation .rc-turn");
    if (all.length > turns && all.length) {
      const last = all[all.length - 1];
      requestAnimationFrame(() => {  // only when its start is out of view (or far down)
        const top = last.getBoundingClientRect().top;
        if (top < 0 || top > window.innerHeight * 0.5) last.scrollIntoView({ block: "start" });
        // its sources from their start, in the Sources column (which stays in view beside it on a laptop)
        const column = document.getElementById("sources-column");
        if (column) column.scrollTop = 0;
      });
    }
    turns = all.length;
  }).observe(document.documentElement, { childList: true, subtree: true });

  // Conversations kept in this browser: an index of {id, title, updated, turns} and one key each.
  function list() {
    try { return JSON.parse(localStorage.getItem(KEY + "list") || "[]"); } catch (err) { return []; }
  }
  function put(key, value) {
    for (let tries = 0; tries < MAX_KEPT; tries++) {
      try { localStorage.setItem(key, value); return true; } catch (err) {
        const kept = list(); // full: drop the oldest conversation and try again
        const oldest = kept.pop();
        if (!oldest) return false;
        localStorage.removeItem(KEY + "conv:" + oldest.id);
        localStorage.setItem(KEY + "list", JSON.stringify(kept));
      }
    }
    return false;
  }
  window.rcStore = {
    load() {
      const current = localStorage.getItem(KEY + "current");
      let conversation = null;
      if (current) {
        try { conversation = JSON.parse(localStorage.getItem(KEY + "conv:" + current) || "null"); } catch (err) {}
      }
      return JSON.stringify({ list: list(), current: conversation });
    },
    get(id) { return localStorage.getItem(KEY + "conv:" + id) || ""; },
    apply(command) {
      let cmd;
      try { cmd = JSON.parse(command || "{}"); } catch (err) { return; }
      if (cmd.op === "save" && cmd.conversation) {
        const c = cmd.conversation;
        put(KEY + "conv:" + c.id, JSON.stringify(c));
        let kept = list().filter((x) => x.id !== c.id);
        kept.unshift({ id: c.id, title: c.title, updated: c.updated, turns: c.turns.length });
        kept.slice(MAX_KEPT).forEach((x) => localStorage.removeItem(KEY + "conv:" + x.id));
        put(KEY + "list", JSON.stringify(kept.slice(0, MAX_KEPT)));
        localStorage.setItem(KEY + "current", c.id);
      } else if (cmd.op === "delete") {
        localStorage.removeItem(KEY + "conv:" + cmd.id);
        put(KEY + "list", JSON.stringify(list().filter((x) => x.id !== cmd.id)));
        if (localStorage.getItem(KEY + "current") === cmd.id) localStorage.removeItem(KEY + "current");
      } else if (cmd.op === "current") {
        if (cmd.id) localStorage.setItem(KEY + "current", cmd.id); else localStorage.removeItem(KEY + "current");
      }
    },
  };
})();
