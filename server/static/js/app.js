// The chat page: wires the conversation, the composer, the source panel and the documents panel.

import { ApiError, getJSON, streamChat } from "./api.js";
import { renderTurn } from "./answer.js";
import { Conversation } from "./conversation.js";
import { DocumentsPanel } from "./documents.js";
import { byId, count } from "./dom.js";
import { answerAsMarkdown, copyText } from "./markdown.js";
import { SourcePanel } from "./sources.js";

const conversation = Conversation.load();
const list = byId("conversation");
const form = byId("composer");
const input = byId("question");
const send = byId("send");
const stop = byId("stop");
const status = byId("status");
const sources = new SourcePanel();
// One side panel at a time: opening the documents closes the source, and the reverse.
const documents = new DocumentsPanel(showDocumentCount, () => sources.isOpen && sources.close());
let running = null;  // the AbortController of the answer being streamed

const actions = {
  openCitation(turn, id, opener) {
    if (documents.isOpen) documents.close();
    sources.open(turn.result.citations, id, opener);
  },
  openQuote(quote, opener) {
    if (documents.isOpen) documents.close();
    sources.open([quote], quote.id, opener);
  },
  retry(turn) {
    if (running) return;
    conversation.turns.splice(conversation.turns.indexOf(turn), 1);
    render();
    ask(turn.question);
  },
  async copy(turn, button) {
    const note = button.nextElementSibling;
    try {
      await copyText(answerAsMarkdown(turn));
      note.textContent = "Copied.";
    } catch (error) {
      note.textContent = `Could not copy: ${error.message}`;
    }
  },
};

function render() {
  list.replaceChildren(...conversation.turns.map((turn) => renderTurn(turn, actions)));
  byId("welcome").hidden = conversation.turns.length > 0;
}

function rerender(turn) {
  const chat = byId("chat");
  const following = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 80;  // reading the end
  const old = list.querySelector(`[data-turn="${CSS.escape(turn.id)}"]`);
  const fresh = renderTurn(turn, actions);
  if (old) old.replaceWith(fresh);
  else list.append(fresh);
  byId("welcome").hidden = true;
  if (following && turn.status === "streaming") chat.scrollTop = chat.scrollHeight;
  return fresh;
}

function setBusy(busy) {
  send.hidden = busy;
  stop.hidden = !busy;
  if (busy) stop.focus();
  else if (document.activeElement === stop || document.activeElement === document.body) input.focus();
}

async function ask(question) {
  const turn = conversation.add(question);
  conversation.save();
  rerender(turn).scrollIntoView({ block: "start", behavior: "smooth" });
  running = new AbortController();
  setBusy(true);
  status.textContent = "Answering…";
  const stream = running.signal;
  try {
    await streamChat(conversation.messagesFor(turn), (name, data) => onEvent(turn, name, data), stream);
    if (turn.status === "streaming") {
      throw new ApiError("Answer incomplete", "The server ended the answer without finishing it; try again.");
    }
  } catch (error) {
    if (error.name === "AbortError") {
      turn.status = "stopped";
    } else {
      turn.status = "error";
      turn.error = error instanceof ApiError ? error.toJSON() : { title: "Error", detail: String(error.message || error) };
    }
  } finally {
    running = null;
    conversation.save();
    rerender(turn);
    setBusy(false);
    status.textContent = statusAfter(turn);
  }
}

function onEvent(turn, name, data) {
  if (name === "question") {
    turn.searched = data.rewritten ? data.question : null;
  } else if (name === "sources") {
    turn.answerer = data.answerer;
  } else if (name === "delta") {
    turn.partial += data.text;
  } else if (name === "done") {
    turn.result = data;
    turn.status = "done";
  } else if (name === "error") {
    turn.status = "error";
    turn.error = { title: data.title || "Error", detail: data.detail || "The answer failed.", status: data.status };
  }
  rerender(turn);
}

function statusAfter(turn) {
  if (turn.status === "error") return `The last question failed: ${turn.error.title}.`;
  if (turn.status === "stopped") return "Stopped.";
  if (turn.result.abstained) return "Answered: the sources don't say.";
  const flagged = turn.result.unsupported.length;
  const citations = `Answered with ${count(turn.result.citations.length, "citation")}`;
  return flagged ? `${citations}; ${count(flagged, "sentence")} unsupported.` : `${citations}.`;
}

function showDocumentCount(documents, passages) {
  byId("document-count").textContent = documents ? `(${documents})` : "";
  status.textContent = documents
    ? `${count(documents, "document")}, ${count(passages, "passage")}.`
    : "No documents yet: open Documents to upload articles.";
}

function submit() {
  const question = input.value.trim();
  if (!question || running) return;
  input.value = "";
  fitInput();
  ask(question);
}

function fitInput() {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 240)}px`;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
  }
});
input.addEventListener("input", fitInput);
stop.addEventListener("click", () => running && running.abort());
byId("new-chat").addEventListener("click", () => {
  if (running) running.abort();
  conversation.clear();
  render();
  status.textContent = "New chat.";
  input.focus();
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.target.closest("dialog")) return;  // a dialog closes itself
  if (sources.isOpen) sources.close();
  else if (documents.isOpen) documents.close();
});

async function checkReadiness() {
  try {
    const ready = await getJSON("/readyz");
    showDocumentCount(ready.documents, ready.passages);
  } catch (error) {
    status.textContent = error.noIndexYet
      ? "No documents yet: open Documents to upload articles."
      : `${error.title}: ${error.detail}`;
  }
}

render();
checkReadiness();
input.focus();
