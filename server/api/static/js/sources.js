// The source panel: a cited article in full, the quote highlighted at its offsets and scrolled
// into view, with buttons to step through the answer's other citations.

import { getDocument } from "./api.js";
import { safeUrl } from "./answer.js";
import { byId, el, formatDate, sliceCodePoints } from "./dom.js";

export class SourcePanel {
  constructor() {
    this.panel = byId("source-panel");
    this.heading = byId("source-heading");
    this.meta = byId("source-meta");
    this.position = byId("citation-position");
    this.previous = byId("citation-previous");
    this.next = byId("citation-next");
    this.warning = byId("source-warning");
    this.text = byId("source-text");
    this.nav = this.position.closest("nav");
    this.ids = byId("source-ids-text");
    this.citations = [];
    this.index = 0;
    this.returnFocus = null;
    this.shown = 0;  // which request is on screen: a slow response never overwrites a newer one
    this.previous.addEventListener("click", () => this.show(this.index - 1));
    this.next.addEventListener("click", () => this.show(this.index + 1));
    byId("source-close").addEventListener("click", () => this.close());
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  open(citations, id, opener) {
    this.citations = citations;
    this.returnFocus = opener;
    this.panel.hidden = false;
    document.body.classList.add("source-open");
    this.show(Math.max(0, citations.findIndex((c) => c.id === id)));
  }

  close() {
    this.panel.hidden = true;
    document.body.classList.remove("source-open");
    if (this.returnFocus && this.returnFocus.isConnected) this.returnFocus.focus();
  }

  async show(index) {
    const citation = this.citations[index];
    if (!citation) return;
    this.index = index;
    const request = ++this.shown;
    this.position.textContent = `Citation ${citation.id} (${index + 1} of ${this.citations.length})`;
    this.nav.hidden = this.citations.length < 2;
    this.previous.disabled = index === 0;
    this.next.disabled = index === this.citations.length - 1;
    this.heading.textContent = citation.title;
    this.meta.replaceChildren(...metaOf(citation));
    // For checking by hand, not for reading: kept out of sight until asked for.
    this.ids.textContent = `Document ${citation.doc_id}, characters ${citation.start_char}–${citation.end_char}.`;
    this.warning.hidden = true;
    this.text.replaceChildren(el("p", { className: "loading" }, "Loading the article…"));
    this.heading.focus();
    let documentBody;
    try {
      documentBody = await getDocument(citation.doc_id);
    } catch (error) {
      if (request === this.shown) this.text.replaceChildren(...unavailable(error, citation));
      return;
    }
    if (request !== this.shown) return;
    this.renderText(documentBody.text, citation);
  }

  renderText(text, citation) {
    const [before, quoted, after] = sliceCodePoints(text, citation.start_char, citation.end_char);
    if (quoted !== citation.quote) {
      this.warning.textContent = "The article changed since this answer was given: the quote is no longer at its offsets.";
      this.warning.hidden = false;
    }
    const mark = el("mark", { className: "cited", tabindex: "-1" }, quoted);
    this.text.replaceChildren(...paragraphs(before), withMark(before, mark, after), ...paragraphs(after, true));
    mark.scrollIntoView({ block: "center" });
  }
}

function metaOf(citation) {
  const date = formatDate(citation.published_at);
  const url = safeUrl(citation.url);
  return [
    date ? el("time", { datetime: citation.published_at }, date) : el("span", {}, "Date unknown"),
    url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, "Original article") : null,
  ].filter(Boolean);
}

/** Why the article cannot be shown; for one deleted since the answer, the quote the answer kept. */
function unavailable(error, citation) {
  if (error.status !== 404) {
    return [el("p", { className: "error", role: "alert" }, `${error.title}: ${error.detail || String(error)}`)];
  }
  return [
    el("p", { className: "warning", role: "alert" },
      "This article is no longer in Dossier: it was deleted or replaced after this answer was given. ",
      "The answer quoted it as follows."),
    el("blockquote", { className: "kept-quote" }, citation.quote),
  ];
}

// The article as paragraphs (its blank-line or line breaks), the one holding the quote built
// around the <mark>: whole paragraphs before it, the quote's own paragraph, whole ones after.
function paragraphs(text, afterQuote = false) {
  const lines = text.split("\n");
  const whole = afterQuote ? lines.slice(1) : lines.slice(0, -1);
  return whole.filter((line) => line.trim()).map((line) => el("p", {}, line));
}

function withMark(before, mark, after) {
  const head = before.slice(before.lastIndexOf("\n") + 1);
  const breakAfter = after.indexOf("\n");
  const tail = breakAfter < 0 ? after : after.slice(0, breakAfter);
  return el("p", { className: "cited-paragraph" }, head, mark, tail);
}
