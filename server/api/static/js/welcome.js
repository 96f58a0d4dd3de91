// The welcome view: what is loaded ("2 articles, 16–19 January 2026, 2 sources") and questions
// the server found it can answer, as buttons; with nothing loaded, how to add articles.

import { getJSON } from "./api.js";
import { byId, count, el, formatDateRange } from "./dom.js";

export const EMPTY_CORPUS = { documents: 0, passages: 0, sources: [], published_from: null, published_to: null, undated: 0, questions: [] };

/** The corpus summary and suggested questions (`GET /v1/suggestions`). */
export function loadCorpus() {
  return getJSON("/v1/suggestions");
}

/** "2 articles, 16–19 January 2026, 2 sources". */
export function describeCorpus(corpus) {
  const parts = [count(corpus.documents, "article")];
  const dates = formatDateRange(corpus.published_from, corpus.published_to);
  if (dates) parts.push(corpus.undated ? `${dates} (${corpus.undated} undated)` : dates);
  if (corpus.sources.length) parts.push(count(corpus.sources.length, "source"));
  return parts.join(", ");
}

/** Fill the welcome view; `ask(question)` runs when a suggestion is chosen. */
export function showWelcome(corpus, ask) {
  const loaded = corpus.documents > 0;
  byId("corpus-summary").textContent = loaded ? `Loaded: ${describeCorpus(corpus)}.` : "";
  byId("empty-corpus").hidden = loaded;
  byId("suggestions").hidden = !corpus.questions.length;
  byId("suggestion-list").replaceChildren(...corpus.questions.map((suggestion) => el("li", {},
    el("button", { type: "button", className: "suggestion", onclick: () => ask(suggestion.question) },
      suggestion.question))));
}
