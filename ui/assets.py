"""The chat's style sheet and its one page script (marker jumps, Markdown copy, plain accessible names)."""

CSS = """
.kv-answer { line-height: 1.55; }
.kv-text { margin-bottom: .4em; }
a.kv-ref { font-weight: 600; text-decoration: none; color: #1d4ed8; cursor: pointer;
  padding: 0 .1em; border-radius: 3px; }
a.kv-ref:hover { background: var(--color-accent-soft); }
.kv-sources { margin-top: .6em; display: flex; flex-direction: column; gap: .5em; }
.kv-sources-head { font-size: .8em; text-transform: uppercase; letter-spacing: .06em; }
.kv-card { border: 1px solid var(--border-color-primary); border-left: 4px solid var(--color-accent);
  border-radius: 6px; padding: .5em .7em; background: var(--background-fill-secondary); font-size: .92em;
  transition: box-shadow .3s; }
.kv-card.kv-flash { box-shadow: 0 0 0 3px var(--color-accent-soft); }
.kv-card-head { display: flex; align-items: baseline; gap: .5em; }
.kv-num { display: inline-block; min-width: 1.5em; text-align: center; font-weight: 700; border-radius: 4px;
  background: #1d4ed8; color: white; font-size: .85em; }
.kv-title { font-weight: 600; flex: 1; }
.kv-lang { font-size: .75em; text-transform: uppercase; border: 1px solid var(--border-color-primary);
  border-radius: 3px; padding: 0 .3em; }
.kv-section { font-size: .85em; margin: .15em 0 .3em 2em; }
.kv-passage { white-space: pre-wrap; margin: .2em 0 .3em 2em; }
.kv-passage mark { background: #fde68a; color: inherit; padding: 0 .1em; border-radius: 2px; }
.kv-foot { font-size: .8em; margin-left: 2.5em; word-break: break-all; }
.kv-muted { font-style: italic; }
.kv-refused { border: 1px dashed #b45309; border-radius: 6px; padding: .5em .7em; background: #fffbeb; }
.kv-refused-head { font-weight: 600; color: #b45309; margin-bottom: .3em; }
.kv-covers { font-size: .85em; margin-top: .3em; line-height: 1.35; }
.kv-covers ul { margin: .2em 0 0 1.2em; padding: 0; } .kv-covers li { margin: .1em 0; }
.dark .kv-refused { background: #2b2110; border-color: #d97706; }
.dark .kv-refused-head { color: #fbbf24; }
.dark .kv-passage mark { background: #854d0e; }
.kv-table-wrap { overflow-x: auto; margin: .3em 0 .6em; }
.kv-answer table.kv-table { border-collapse: collapse; width: 100%; margin: 0; font-size: .92em; line-height: 1.4; }
.kv-answer table.kv-table th, .kv-answer table.kv-table td { border: 1px solid var(--border-color-primary);
  padding: .35em .55em; text-align: left; vertical-align: top; background: var(--background-fill-primary); }
.kv-answer table.kv-table thead th { background: var(--background-fill-secondary); font-weight: 600; }
.kv-answer table.kv-table thead th:first-child { text-transform: capitalize; }
.kv-answer table.kv-table tbody th { font-weight: 600; }
.kv-answer table.kv-table td.kv-unstated { color: var(--neutral-500); font-style: italic; }
.kv-passage table.kv-row-table { border-collapse: collapse; margin: .3em 0; font-size: .95em; white-space: normal; }
.kv-passage table.kv-row-table th, .kv-passage table.kv-row-table td { border: 1px solid var(--border-color-primary);
  padding: .2em .5em; text-align: left; vertical-align: top; }
.kv-passage table.kv-row-table th { background: var(--background-fill-primary); font-weight: 600; }
.kv-pending { opacity: .75; }
.kv-error { color: #b91c1c; }
.kv-stopped-note { font-size: .85em; color: #52525b; font-style: italic; }
.dark .kv-stopped-note { color: #a1a1aa; }
#kv-controls { gap: .4em; }
#kv-controls button { min-width: 0; }
.kv-status { font-size: .9em; }
#kv-examples button { font-size: .85em; }
.kv-md { display: none; }
.kv-q { white-space: pre-wrap; }
#kv-chat-status:empty { display: none; }
/* Markers and badges are blue-700 (#1d4ed8): WCAG AA (4.5:1) on the message backgrounds; lighter in dark.
   Secondary text is grey rather than faded (opacity fell under 4.5:1), Gradio's own faint texts too. */
.dark a.kv-ref { color: #93c5fd; }
.kv-sources-head, .kv-section, .kv-foot, .kv-lang, .kv-muted, #kv-upload .or, footer .show-api { color: #52525b; }
.dark .kv-sources-head { color: #a1a1aa; }
.dark .kv-section { color: #a1a1aa; }
.dark .kv-foot { color: #a1a1aa; }
.dark .kv-lang { color: #a1a1aa; }
.dark .kv-muted { color: #a1a1aa; }
.dark #kv-upload .or { color: #a1a1aa; }
.dark footer .show-api { color: #a1a1aa; }
#kv-topk .min_value, #kv-topk .max_value { color: #52525b; }
/* Gradio's loading text ("processing | 0.2s") over a component that is refreshing, e.g. the documents table. */
.progress-text.meta-text { color: #3f3f46; }
.dark .progress-text.meta-text { color: #d4d4d8; }
.dark #kv-topk .min_value { color: #a1a1aa; }
.dark #kv-topk .max_value { color: #a1a1aa; }
/* Gradio fades message text to 0.8, which takes every colour in it under 4.5:1. */
#kv-chat .prose.chatbot.md { opacity: 1; }
/* Phones: the question box and its buttons above the fold. The documents table has fixed column widths
   (ui/documents.py) and scrolls sideways instead of squeezing headers to one letter per line. */
#kv-doc-table th, #kv-doc-table th * { white-space: nowrap; }
@media (max-width: 640px) {
  #kv-chat { height: 48vh !important; max-height: 48vh; }
  #kv-header h2 { margin: 0; font-size: 1.2em; }
  #kv-header p { font-size: .85em; margin: .2em 0; }
  #kv-ask-row { flex-wrap: nowrap; }
  #kv-ask-row #kv-send, #kv-ask-row #kv-stop { min-width: 4.5em; flex-grow: 0; white-space: nowrap; }
  /* No room for both: while an answer is written Stop takes Ask's place (Enter still sends). */
  #kv-ask-row:has(#kv-stop) #kv-send { display: none; }
}
"""

# One page script. Markers are plain links inside the chat: jump to the card in the same message instead of
# navigating. Sent text is taken from its box at once. Gradio's copy icon and each message's aria-label use
# the message's raw HTML; the script gives the copy the Markdown the message carries (.kv-md) and the label
# the plain answer text. After an answer it shows the answer's start.
HEAD = """<script>
(function () {
  function parse(html) { return new DOMParser().parseFromString(html, "text/html"); }  // inert: nothing runs
  function squash(text) { return (text || "").replace(/\\s+/g, " ").trim(); }
  var OURS = /^<div class="kv-/;

  function markdownOf(html) {
    var doc = parse(html), md = doc.querySelector(".kv-md");
    return md ? md.textContent : squash(doc.body.textContent);
  }

  function plainOf(html) {
    var doc = parse(html), parts = [];
    doc.querySelectorAll(".kv-refused-head, .kv-text, .kv-q").forEach(function (e) {
      parts.push(squash(e.textContent));
    });
    return parts.length ? parts.join(" — ") : squash(doc.body.textContent);
  }

  document.addEventListener("click", function (event) {
    var ref = event.target.closest && event.target.closest("a.kv-ref");
    if (!ref) return;
    event.preventDefault();
    event.stopPropagation();
    // Gradio's sanitizer keeps ids but drops data-* attributes, so the card is found by its id.
    var card = document.getElementById((ref.getAttribute("href") || "").slice(1));
    if (!card) return;
    card.scrollIntoView({behavior: "smooth", block: "nearest"});
    card.classList.add("kv-flash");
    setTimeout(function () { card.classList.remove("kv-flash"); }, 1200);
  }, true);

  // A click on a button of the chat arms the rewrite; only the copy that click makes is rewritten.
  var copying = false;
  document.addEventListener("click", function (event) {
    var chat = document.getElementById("kv-chat");
    copying = !!(chat && event.target.closest && event.target.closest("button") && chat.contains(event.target));
  }, true);
  if (navigator.clipboard && navigator.clipboard.writeText) {
    var write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = function (text) {
      var ours = copying && OURS.test(text || "");
      copying = false;
      return write(ours ? markdownOf(text) : text);
    };
  }
  // Without navigator.clipboard (plain http off localhost) Gradio copies from a textarea with execCommand.
  document.addEventListener("copy", function (event) {
    var box = document.activeElement;
    if (!copying || !box || box.tagName !== "TEXTAREA" || !OURS.test(box.value)) return;
    copying = false;
    event.clipboardData.setData("text/plain", markdownOf(box.value));
    event.preventDefault();
  }, true);

  // Text is read, and its box emptied, the moment it is sent (Enter, Ask, Add URL): Gradio reads a box
  // asynchronously, so a second question typed and sent within milliseconds was read twice or lost.
  // The take events ask window.kvSent for the texts in the order they were sent.
  var SENDERS = {"kv-send": "kv-question", "kv-url-add": "kv-url"}, sent = {};
  function send(id) {
    var box = document.querySelector("#" + id + " textarea, #" + id + " input");
    if (!box) return;
    (sent[id] = sent[id] || []).push(box.value);
    box.value = "";
    box.dispatchEvent(new Event("input", {bubbles: true}));
  }
  window.kvSent = function (id, fallback) {
    var texts = sent[id] || [];
    return texts.length ? texts.shift() : fallback;
  };
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    var box = event.target.closest && event.target.closest("#kv-question, #kv-url");
    if (box) send(box.id);
  }, true);
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#kv-send, #kv-url-add");
    if (button) send(SENDERS[button.id]);
  }, true);

  function fixLabel(el) {
    var label = el.getAttribute && el.getAttribute("aria-label");
    var at = label ? label.indexOf("message: <div class=\\"kv-") : -1;
    if (at >= 0) el.setAttribute("aria-label", label.slice(0, at + 9) + plainOf(label.slice(at + 9)));
    // The upload area's label hides its visible "Drop File Here - or - Click to Upload": name it by its text.
    if (label && el.closest("#kv-upload") && el.innerText && !label.includes(squash(el.innerText))) {
      el.removeAttribute("aria-label");
    }
  }

  function scroller(el) {
    for (var p = el.parentElement; p; p = p.parentElement) {
      var overflow = getComputedStyle(p).overflowY;
      if ((overflow === "auto" || overflow === "scroll") && p.scrollHeight > p.clientHeight) return p;
    }
    return null;
  }
  // Show the start of the newest answer (a refusal's headline too), not the bottom of its last card: the
  // chat panel first, then the page when that start is still off screen (phones). It runs when an answer
  // appears and when it is replaced by the cited one, not at every streamed piece, so reading is not
  // interrupted. (The chat's own autoscroll is off: it would land on the last card.)
  var shown = "", timer = null;
  function showAnswer() {
    timer = null;
    var all = document.querySelectorAll("#kv-chat .kv-answer");
    var answer = all[all.length - 1];
    var state = answer ? all.length + (answer.classList.contains("kv-pending") ? "p" : "f") : "";
    if (!answer || state === shown) { shown = state; return; }
    shown = state;
    var panel = scroller(answer);
    // A new question and its "Looking in the documents…" sit at the bottom; a finished answer from its top.
    if (panel && answer.classList.contains("kv-pending")) panel.scrollTop = panel.scrollHeight;
    else if (panel) panel.scrollTop += answer.getBoundingClientRect().top - panel.getBoundingClientRect().top - 8;
    var top = answer.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight * 0.6) window.scrollBy(0, top - 16);
  }

  new MutationObserver(function (records) {
    var answers = false;
    records.forEach(function (record) {
      if (record.type === "attributes") { fixLabel(record.target); return; }
      record.addedNodes.forEach(function (node) {
        if (!node.querySelectorAll) return;
        fixLabel(node);
        node.querySelectorAll("[aria-label]").forEach(fixLabel);
        answers = answers || !!(node.closest && node.closest("#kv-chat"));
      });
    });
    if (answers && !timer) timer = setTimeout(showAnswer, 120);
  }).observe(document.documentElement,
             {subtree: true, childList: true, attributes: true, attributeFilter: ["aria-label"]});
})();
</script>"""
