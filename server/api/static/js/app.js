// The chat page: wires the conversations, the composer and its filters, the welcome view, the
// source panel and the documents panel.

import { ApiError, streamChat } from "./api.js";
import { renderTurn } from "./answer.js";
import { ChatList } from "./chatlist.js";
import { ChatStore } from "./conversation.js";
import { DocumentsPanel } from "./documents.js";
import { byId, count } from "./dom.js";
import { FilterBar } from "./filters.js";
import { answerAsMarkdown, conversationAsMarkdown, copyText, download, markdownFilename } from "./markdown.js";
import { Scroller } from "./scroller.js";
import { SourcePanel } from "./sources.js";
import { EMPTY_CORPUS, describeCorpus, loadCorpus, showWelcome } from "./welcome.js";

const store = ChatStore.load();
const list = byId("conversation");
const form = byId("composer");
const input = byId("question");
const send = byId("send");
const stop = byId("stop");
const status = byId("status");
const scroller = new Scroller(byId("scroller"), byId("jump-latest"), () => list.lastElementChild, () => input.focus());
const sources = new SourcePanel();
// One side panel at a time: opening the documents closes the source, and the reverse.
const documents = new DocumentsPanel(documentsChanged, () => {
  if (sources.isOpen) sources.close();
  makeRoomForPanel();
});
const filters = new FilterBar((chosen) => {
  store.current.filters = chosen;
  store.save();
});
let corpus = EMPTY_CORPUS;
let corpusLoaded = false;  // false until the summary arrives (a refused key, say): asked again later
let running = null;  // {controller, chat} of the answer being streamed

const actions = {
  openCitation(turn, id, opener) {
    if (documents.isOpen) documents.close();
    makeRoomForPanel();
    sources.open(turn.result.citations, id, opener);
  },
  openQuote(quote, opener) {
    if (documents.isOpen) documents.close();
    makeRoomForPanel();
    sources.open([quote], quote.id, opener);
  },
  retry(turn) {
    if (running) return;
    const turns = store.current.turns;
    turns.splice(turns.indexOf(turn), 1);
    render();
    askOrExplain(turn.question);
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

const chats = new ChatList(store, {
  select(chat) {
    stopAnswering();
    store.select(chat.id);
    render();
    status.textContent = `Opened “${chat.name}”.`;
  },
  rename(chat, name) {
    store.rename(chat, name);
    chats.render();
  },
  exportChat(chat) {
    download(markdownFilename(chat.name), conversationAsMarkdown(chat));
  },
  remove(chat) {
    if (running && running.chat === chat) stopAnswering();
    store.remove(chat);
    render();
    status.textContent = `Deleted “${chat.name}”.`;
  },
});

/** Three columns leave the conversation too narrow below this width: the chat list makes way. */
function makeRoomForPanel() {
  if (window.innerWidth < 1100 && chats.isOpen) chats.setOpen(false);
}

/** The open conversation from scratch, scrolled to its latest turn. */
function render() {
  const chat = store.current;
  list.replaceChildren(...chat.turns.map((turn) => renderTurn(turn, actions)));
  byId("welcome").hidden = chat.turns.length > 0;
  filters.show(chat.filters);
  filters.setOpen(false);
  chats.render();
  scroller.toLatest();
}

function rerender(turn) {
  const old = list.querySelector(`[data-turn="${CSS.escape(turn.id)}"]`);
  if (!old && !store.current.turns.includes(turn)) return null;  // its chat is no longer shown
  const fresh = renderTurn(turn, actions);
  if (old) old.replaceWith(fresh);
  else list.append(fresh);
  byId("welcome").hidden = true;
  return fresh;
}

function setBusy(busy) {
  send.hidden = busy;
  stop.hidden = !busy;
  if (busy) stop.focus();
  else if (document.activeElement === stop || document.activeElement === document.body) input.focus();
}

async function ask(question) {
  const chat = store.current;
  const turn = chat.add(question);
  store.save();
  chats.render();
  scroller.bringIntoView(rerender(turn), true);
  running = { controller: new AbortController(), chat };
  setBusy(true);
  status.textContent = "Answering…";
  try {
    await streamChat(chat.messagesFor(turn), turn.filters, (name, data) => onEvent(turn, name, data),
      running.controller.signal);
    if (turn.status === "streaming") {
      throw new ApiError("Answer incomplete", "The server ended the answer without finishing it; try again.");
    }
  } catch (error) {
    if (error.name === "AbortError") {
      turn.status = "stopped";
    } else {
      turn.status = "error";
      turn.error = error instanceof ApiError ? error.toJSON() : { title: "Error", detail: String(error.message || error) };
      if (error.status === 422 && !input.value) {  // refused as asked (too long, say): back to edit
        input.value = question;
        fitInput();
      }
    }
  } finally {
    running = null;
    chat.updated = Date.now();
    store.save();
    scroller.bringIntoView(rerender(turn));
    setBusy(false);
    if (chat === store.current) status.textContent = statusAfter(turn);
    if (!corpusLoaded && turn.status === "done") refreshCorpus();
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
  scroller.bringIntoView(rerender(turn));
}

function stopAnswering() {
  if (running) running.controller.abort();
}

function statusAfter(turn) {
  if (turn.status === "error") return `The last question failed: ${turn.error.title}.`;
  if (turn.status === "stopped") return "Stopped.";
  if (turn.result.abstained) return "Answered: the sources don't say.";
  const flagged = turn.result.unsupported.length;
  const citations = `Answered with ${count(turn.result.citations.length, "citation")}`;
  return flagged ? `${citations}; ${count(flagged, "sentence")} unsupported.` : `${citations}.`;
}

/** After an upload or a deletion: the counts at once, the summary and suggestions again. */
function documentsChanged(documentCount) {
  if (documentCount === corpus.documents) return;
  corpus = { ...corpus, documents: documentCount };  // known now; the rest when the summary comes
  byId("document-count").textContent = documentCount ? `(${documentCount})` : "";
  refreshCorpus();
}

async function refreshCorpus() {
  if (!corpusLoaded) status.textContent = "Loading the list of articles…";
  try {
    corpus = await loadCorpus();
    corpusLoaded = true;
  } catch (error) {
    status.textContent = `${error.title}: ${error.detail}`;
    return;
  }
  byId("document-count").textContent = corpus.documents ? `(${corpus.documents})` : "";
  status.textContent = corpus.documents ? `${describeCorpus(corpus)}.` : "No articles yet: open Documents to upload some.";
  showWelcome(corpus, (question) => !running && askOrExplain(question));
  filters.setCorpus(corpus);
}

function submit() {
  const question = input.value.trim();
  if (!question || running) return;
  if (!filters.applyOpenForm()) return;  // dates typed but not applied count; a wrong range stops here
  input.value = "";
  fitInput();
  askOrExplain(question);
}

function askOrExplain(question) {
  if (corpusLoaded && !corpus.documents) noArticlesYet(question);
  else ask(question);
}

/** Asked before any article is loaded: said in the chat, without sending the question. */
function noArticlesYet(question) {
  const turn = store.current.add(question);
  turn.status = "error";
  turn.error = {
    title: "No articles yet",
    detail: "Upload articles under Documents (or run dossier ingest FOLDER on the server), then ask again.",
  };
  store.save();
  chats.render();
  scroller.bringIntoView(rerender(turn), true);
  status.textContent = "No articles yet: open Documents to upload some.";
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
stop.addEventListener("click", stopAnswering);
byId("new-chat").addEventListener("click", () => {
  stopAnswering();
  store.startNew();
  render();
  status.textContent = "New chat; the earlier ones are in the chat list.";
  input.focus();
});
byId("welcome-upload").addEventListener("click", () => documents.open());
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.target.closest("dialog")) return;  // a dialog closes itself
  if (sources.isOpen) sources.close();
  else if (documents.isOpen) documents.close();
  else if (chats.isOpen && chats.covers) chats.setOpen(false, true);
});

render();
refreshCorpus();
input.focus();
