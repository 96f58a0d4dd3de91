// One turn of the conversation on the page: the question, then the answer with its citation
// chips, flagged sentences, sources and actions. Built with dom.el only: text stays text.

import { count, el, formatDate, formatDateRange, placeTip } from "./dom.js";

// The server's citation markers: [1], [1, 2], [1; 2].
const MARKER = /\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]/g;
const HAS_MARKER = /\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]/;

export function safeUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

export function answererLabel(answerer) {
  if (!answerer) return "";
  if (answerer === "extractive") return "extractive (quotes from the articles, no language model)";
  return answerer.startsWith("llm:") ? `language model ${answerer.slice(4)}` : answerer;
}

/**
 * The `<li>` for a turn; `actions` has openCitation(turn, id, chip), openQuote(quote, button),
 * retry(turn) and copy(turn, button).
 */
export function renderTurn(turn, actions) {
  return el("li", { className: "turn", dataset: { turn: turn.id } },
    renderQuestion(turn),
    renderAnswer(turn, actions),
  );
}

function renderQuestion(turn) {
  const filters = describeFilters(turn.filters);
  return el("div", { className: "question" },
    el("h2", { className: "visually-hidden" }, "Question"),
    el("p", { className: "question-text" }, turn.question),
    filters ? el("p", { className: "searched" }, `Only ${filters}`) : null,
    turn.searched
      ? el("p", { className: "searched" }, "Searched for: ", el("q", {}, turn.searched))
      : null,
  );
}

/** "articles of Reuters published 1–5 March 2026"; "" without filters. */
export function describeFilters(filters) {
  if (!filters) return "";
  const { source, published_from: from, published_to: to } = filters;
  let dates = "";
  if (from && to) dates = formatDateRange(from, to);
  else if (from) dates = `from ${formatDate(from)}`;
  else if (to) dates = `until ${formatDate(to)}`;
  if (!source && !dates) return "";
  return `articles${source ? ` of ${source}` : ""}${dates ? ` published ${dates}` : ""}`;
}

function renderAnswer(turn, actions) {
  const classes = ["answer", `is-${turn.status}`];
  if (turn.status === "done" && turn.result.abstained) classes.push("is-abstained");
  return el("article", { className: classes.join(" "), "aria-label": "Answer", "aria-busy": turn.status === "streaming" },
    renderMeta(turn),
    renderBody(turn, actions),
    turn.status === "done" && !turn.result.abstained ? renderSources(turn, actions) : null,
    renderActions(turn, actions),
  );
}

function renderMeta(turn) {
  const answerer = turn.result ? turn.result.answerer : turn.answerer;
  const parts = [];
  if (turn.status === "streaming") {
    parts.push(el("span", { className: "spinner", "aria-hidden": "true" }), "Answering");
    if (answerer) parts.push(" with ", el("strong", { className: "answerer" }, answererLabel(answerer)));
    parts.push("…");
  } else if (answerer) {
    parts.push("Answered by ", el("strong", { className: "answerer" }, answererLabel(answerer)));
  }
  if (!parts.length) return null;
  const meta = el("p", { className: "answer-meta" }, ...parts);
  if (turn.result && turn.result.fallback) {
    return el("div", {}, meta, el("p", { className: "fallback" },
      "The language model's answer could not be used (", turn.result.fallback,
      "), so these are quotes from the sources instead."));
  }
  return meta;
}

function renderBody(turn, actions) {
  if (turn.status === "error") return renderError(turn, actions);
  if (turn.status !== "done") {
    const body = el("div", { className: "answer-body" },
      el("p", {}, ...textWithChips(turn.partial, new Map(), turn, actions)));
    if (turn.status === "stopped") {
      body.append(
        el("p", { className: "notice" },
          turn.partial ? "Stopped before the answer was complete; its citations were not checked." : "Stopped."),
        el("button", { type: "button", className: "retry", onclick: () => actions.retry(turn) }, "Try again"),
      );
    }
    return body;
  }
  const result = turn.result;
  const citations = new Map(result.citations.map((c) => [c.id, c]));
  if (result.abstained) return renderAbstention(result, turn, actions);
  // With DOSSIER_UNSUPPORTED_CLAIMS=drop the answer leaves out sentences that stay listed.
  const shown = result.sentences.filter((s) => s.supported || result.answer.includes(s.text));
  const dropped = result.sentences.filter((s) => !shown.includes(s));
  const paragraph = el("p", { className: "supporting" });
  if (shown.length) {
    shown.forEach((sentence, index) => {
      if (index) paragraph.append(" ");
      paragraph.append(renderSentence(sentence, citations, turn, actions));
    });
  } else {
    paragraph.append(...textWithChips(result.answer, citations, turn, actions));
  }
  const body = el("div", { className: "answer-body" }, renderLead(result, citations, turn, actions), paragraph);
  const flagged = shown.filter((s) => !s.supported).length;
  if (flagged) {
    body.append(el("p", { className: "notice unsupported-note" },
      el("span", { className: "flag-icon", "aria-hidden": "true" }, "!"),
      `${count(flagged, "sentence")} not supported by the cited sources: marked above; hover or focus the mark for why.`));
  }
  if (dropped.length) {
    body.append(el("details", { className: "dropped" },
      el("summary", {}, `${count(dropped.length, "sentence")} of the model's answer left out: not supported by the sources`),
      el("ul", {}, ...dropped.map((s) => el("li", {}, s.text, el("span", { className: "reason" }, ` (${s.reason})`)))),
    ));
  }
  return body;
}

/** The direct answer ("500"), its chip opening the quote that holds it; null without one. */
function renderLead(result, citations, turn, actions) {
  const short = result.short_answer;
  const citation = short && citations.get(short.citation_id);
  if (!citation) return null;
  return el("p", { className: "lead" },
    el("span", { className: "visually-hidden" }, "Short answer: "),
    ...keepChipsWithWords([short.text, " ", chip(citation, turn, actions)]));
}

/** The sources don't say: why, and the closest evidence found, collapsed. */
function renderAbstention(result, turn, actions) {
  const evidence = result.citations.length
    ? el("details", { className: "closest-evidence" },
      el("summary", {}, `Closest evidence found (${count(result.citations.length, "passage")})`),
      el("ul", {}, ...result.citations.map((citation) => el("li", {},
        ...keepChipsWithWords([`“${citation.quote}”`, " ", chip(citation, turn, actions)]),
        el("span", { className: "evidence-source" }, ` ${citation.title}`),
      ))))
    : null;
  return el("div", { className: "abstention", role: "note" },
    el("p", { className: "abstention-title" }, el("span", { className: "abstention-icon", "aria-hidden": "true" }, "∅"),
      "Not in the sources"),
    el("p", { className: "lead" }, result.abstention_reason || result.answer),
    result.abstention_reason ? el("p", { className: "abstention-detail" }, result.answer) : null,
    evidence,
  );
}

function renderSentence(sentence, citations, turn, actions) {
  const parts = textWithChips(sentence.text, citations, turn, actions);
  if (!HAS_MARKER.test(sentence.text)) {  // extractive sentences are bare quotes: their citations follow
    for (const id of sentence.citations) parts.push(" ", chipOrText(id, citations, turn, actions));
  }
  if (sentence.supported) return el("span", { className: "sentence" }, ...keepChipsWithWords(parts));
  const reason = sentence.reason || "No cited passage backs this sentence.";
  if (sentence.quote) parts.push(" ", closestPassage(sentence.quote, turn, actions));
  return el("span", { className: "sentence unsupported" },
    el("span", {
      className: "flag has-tip",
      tabindex: "0",
      role: "img",
      "aria-label": `Unsupported: ${reason}`,
      onmouseenter: (event) => placeTip(event.currentTarget),
      onfocus: (event) => placeTip(event.currentTarget),
    },
      "!", el("span", { className: "tip", role: "tooltip" }, el("strong", {}, "Not supported. "), reason)),
    ...keepChipsWithWords(parts),
  );
}

/** Text with each [n] turned into a chip (or left as text while its citation is unknown). */
function textWithChips(text, citations, turn, actions) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(MARKER)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    for (const id of match[1].split(/\s*[,;]\s*/).map(Number)) {
      parts.push(chipOrText(id, citations, turn, actions));
    }
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return keepChipsWithWords(parts);
}

/**
 * Parts of a sentence with each run of chips bound to the word before it, so a line never starts
 * with a chip: "…by 2030 [1]" wraps as "…by" / "2030 [1]", never "…by 2030" / "[1]".
 */
export function keepChipsWithWords(parts) {
  const merged = [];
  for (const part of parts) {  // neighbouring strings as one, so the last word is found
    if (typeof part === "string" && typeof merged.at(-1) === "string") merged[merged.length - 1] += part;
    else merged.push(part);
  }
  const kept = [];
  for (let i = 0; i < merged.length; i++) {
    if (!isChip(merged[i])) {
      kept.push(merged[i]);
      continue;
    }
    const group = [];
    const before = kept.at(-1);
    if (typeof before === "string") {
      const word = before.match(/\S+\s*$/);
      if (word) {
        kept[kept.length - 1] = before.slice(0, word.index);
        group.push(word[0]);
      }
    }
    while (i < merged.length && (isChip(merged[i]) || (isBlank(merged[i]) && isChip(merged[i + 1])))) {
      group.push(merged[i++]);
    }
    i--;
    kept.push(el("span", { className: "keep-together" }, ...group));
  }
  return kept.filter((part) => part !== "");
}

function isChip(part) {
  return part instanceof Element && (part.classList.contains("chip") || part.classList.contains("keep-together"));
}

function isBlank(part) {
  return typeof part === "string" && !part.trim();
}

function chipOrText(id, citations, turn, actions) {
  const citation = citations.get(id);
  if (!citation) return el("span", { className: "chip is-pending" }, String(id));
  return chip(citation, turn, actions);
}

let tipNumber = 0;

export function chip(citation, turn, actions) {
  const tipId = `tip-${++tipNumber}`;
  const date = formatDate(citation.published_at);
  return el("button", {
    type: "button",
    className: "chip has-tip",
    "aria-label": `Citation ${citation.id}: ${citation.title}`,
    "aria-describedby": tipId,
    dataset: { citation: String(citation.id) },
    onclick: (event) => actions.openCitation(turn, citation.id, event.currentTarget),
    onmouseenter: (event) => placeTip(event.currentTarget),
    onfocus: (event) => placeTip(event.currentTarget),
  },
  String(citation.id),
  el("span", { className: "tip", role: "tooltip", id: tipId },
    el("span", { className: "tip-quote" }, `“${citation.quote}”`),
    el("span", { className: "tip-source" }, `${citation.title} · ${date || "date unknown"}`),
  ));
}

/** For an unsupported sentence: the sentence of the sources that comes closest, to check by hand. */
function closestPassage(quote, turn, actions) {
  return el("button", {
    type: "button",
    className: "closest quiet",
    "aria-label": `Closest passage: ${quote.title}`,
    title: `“${quote.quote}”`,
    onclick: (event) => actions.openQuote(quote, event.currentTarget),
  }, "closest passage");
}

function renderSources(turn, actions) {
  const byDocument = new Map();
  for (const citation of turn.result.citations) {
    if (!byDocument.has(citation.doc_id)) byDocument.set(citation.doc_id, []);
    byDocument.get(citation.doc_id).push(citation);
  }
  if (!byDocument.size) return null;
  const items = [...byDocument.values()].map((cited) => {
    const first = cited[0];
    const url = safeUrl(first.url);
    const date = formatDate(first.published_at);
    return el("li", {},
      el("span", { className: "source-chips" }, ...cited.map((c) => chip(c, turn, actions))),
      el("div", {},
        el("span", { className: "source-title" }, first.title),
        el("span", { className: "source-details" },
          date ? el("time", { datetime: first.published_at }, date) : el("span", {}, "Date unknown"),
          url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, "Original article") : null,
        ),
      ),
    );
  });
  return el("section", { className: "sources", "aria-label": "Sources" },
    el("h3", {}, "Sources"), el("ul", {}, ...items));
}

function renderError(turn, actions) {
  const error = turn.error || { title: "Error", detail: "Something went wrong." };
  return el("div", { className: "error", role: "alert" },
    el("p", { className: "error-title" }, error.title),
    el("p", {}, error.detail),
    el("button", { type: "button", onclick: () => actions.retry(turn) }, "Try again"),
  );
}

function renderActions(turn, actions) {
  if (turn.status !== "done") return null;
  return el("div", { className: "answer-actions" },
    el("button", { type: "button", className: "quiet", onclick: (event) => actions.copy(turn, event.currentTarget) },
      "Copy as Markdown"),
    el("span", { className: "copy-status", role: "status" }),
  );
}
