// Conversations: each a list of turns (a question and its answer) with the filters its questions
// use. All of them are kept in local storage, so a reload or a closed tab brings them back, and a
// new chat keeps the old ones in the side list.

const KEY = "dossier.chats.v2";
const OLD_KEY = "dossier.conversation.v1";  // one conversation, before there were several
const TITLE_CHARS = 60;

function newId() {
  return crypto.randomUUID ? crypto.randomUUID() : String(Date.now() + Math.random());
}

export class Conversation {
  constructor({ id = newId(), title = "", named = false, updated = Date.now(), turns = [], filters = {} } = {}) {
    this.id = id;
    this.title = title;
    this.named = named;  // renamed by the reader: the first question no longer names it
    this.updated = updated;
    this.turns = turns;
    this.filters = filters;  // {published_from, published_to, source}: applied to every question
  }

  get name() {
    if (this.title) return this.title;
    const first = this.turns[0];
    if (!first) return "New chat";
    return first.question.length > TITLE_CHARS ? `${first.question.slice(0, TITLE_CHARS - 1)}…` : first.question;
  }

  add(question) {
    const turn = {
      id: newId(),
      question,
      filters: { ...this.filters },
      searched: null,
      answerer: null,
      partial: "",
      result: null,
      status: "streaming",
      error: null,
    };
    this.turns.push(turn);
    this.updated = Date.now();
    return turn;
  }

  /** The messages `/v1/chat` needs: earlier answered turns, then the new question. */
  messagesFor(turn) {
    const messages = [];
    for (const earlier of this.turns) {
      if (earlier === turn) break;
      if (earlier.status !== "done" || !earlier.result) continue;
      messages.push({ role: "user", content: earlier.question });
      messages.push({ role: "assistant", content: earlier.result.answer });
    }
    messages.push({ role: "user", content: turn.question });
    return messages;
  }

  toJSON() {
    const { id, title, named, updated, turns, filters } = this;
    return { id, title, named, updated, turns, filters };
  }
}

/** Every conversation, the open one first in `current`; the list newest first. */
export class ChatStore {
  constructor(chats, currentId) {
    this.chats = chats;
    this.current = chats.find((chat) => chat.id === currentId) || this.create();
  }

  static load() {
    const saved = readJSON(KEY);
    if (saved && Array.isArray(saved.chats)) {
      return new ChatStore(saved.chats.filter(isChat).map(revive), saved.current);
    }
    const old = readJSON(OLD_KEY);  // an earlier version's single conversation becomes the first chat
    if (old && Array.isArray(old.turns) && old.turns.length) {
      const chat = revive({ turns: old.turns });
      const store = new ChatStore([chat], chat.id);
      store.save();
      localStorage.removeItem(OLD_KEY);
      return store;
    }
    return new ChatStore([], null);
  }

  get list() {
    return [...this.chats].filter((chat) => chat.turns.length || chat === this.current)
      .sort((a, b) => b.updated - a.updated);
  }

  create() {
    const chat = new Conversation();
    this.chats.push(chat);
    this.current = chat;
    return chat;
  }

  /** Open a new chat, unless the open one is still empty. */
  startNew() {
    if (this.current.turns.length) this.create();
    this.save();
    return this.current;
  }

  select(id) {
    const chat = this.chats.find((c) => c.id === id);
    if (chat) this.current = chat;
    this.save();
    return this.current;
  }

  rename(chat, title) {
    chat.title = title.trim().slice(0, 120);
    chat.named = Boolean(chat.title);
    this.save();
  }

  remove(chat) {
    this.chats = this.chats.filter((c) => c !== chat);
    if (this.current === chat) {
      this.current = this.list[0] || null;
      if (!this.current) this.create();
    }
    this.save();
  }

  save() {
    try {
      const kept = this.chats.filter((chat) => chat.turns.length || chat.title);
      localStorage.setItem(KEY, JSON.stringify({ current: this.current.id, chats: kept }));
    } catch {
      // storage full or disabled: the chats still work, they just won't survive a reload
    }
  }
}

function readJSON(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || "null");
  } catch {
    return null;  // unreadable (another version, or edited by hand): start afresh rather than fail
  }
}

function isChat(value) {
  return value !== null && typeof value === "object" && Array.isArray(value.turns);
}

const STATUSES = new Set(["done", "error", "stopped"]);
const UNREADABLE = {
  title: "Answer not kept",
  detail: "This answer could not be read back from the browser's storage; ask the question again.",
};

/** A chat as saved, made safe to show: stored by another version, or edited by hand. */
function revive(saved) {
  const turns = saved.turns.filter((turn) => turn && typeof turn === "object" && typeof turn.question === "string")
    .map(reviveTurn);
  return new Conversation({
    id: typeof saved.id === "string" ? saved.id : undefined,
    title: typeof saved.title === "string" ? saved.title : "",
    named: Boolean(saved.named),
    updated: Number.isFinite(saved.updated) ? saved.updated : 0,
    turns,
    filters: saved.filters && typeof saved.filters === "object" ? saved.filters : {},
  });
}

function reviveTurn(saved) {
  const turn = {
    id: typeof saved.id === "string" ? saved.id : newId(),
    question: saved.question,
    filters: saved.filters && typeof saved.filters === "object" ? saved.filters : {},
    searched: typeof saved.searched === "string" ? saved.searched : null,
    answerer: typeof saved.answerer === "string" ? saved.answerer : null,
    partial: typeof saved.partial === "string" ? saved.partial : "",
    result: saved.result,
    status: STATUSES.has(saved.status) ? saved.status : "stopped",  // streaming: a reload cut it off
    error: saved.error && typeof saved.error === "object" ? saved.error : null,
  };
  if (turn.status === "done" && !isResult(turn.result)) Object.assign(turn, { status: "error", error: UNREADABLE });
  if (turn.status === "error" && !turn.error) turn.error = UNREADABLE;
  return turn;
}

function isResult(result) {
  return result !== null && typeof result === "object" && typeof result.answer === "string" &&
    ["citations", "sentences", "unsupported"].every((key) => Array.isArray(result[key]));
}
