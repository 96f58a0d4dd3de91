// The conversation: a list of turns (a question and its answer), kept in local storage so a
// reload, or a closed tab, brings it back.

const KEY = "dossier.conversation.v1";

export class Conversation {
  constructor(turns = []) {
    this.turns = turns;
  }

  static load() {
    try {
      const saved = JSON.parse(localStorage.getItem(KEY) || "null");
      if (saved && Array.isArray(saved.turns)) {
        for (const turn of saved.turns) {
          // A reload cut off any answer still streaming.
          if (turn.status === "streaming") turn.status = "stopped";
        }
        return new Conversation(saved.turns);
      }
    } catch {
      // unreadable (another version, or edited by hand): start afresh rather than fail
    }
    return new Conversation();
  }

  save() {
    try {
      localStorage.setItem(KEY, JSON.stringify({ turns: this.turns }));
    } catch {
      // storage full or disabled: the conversation still works, it just won't survive a reload
    }
  }

  clear() {
    this.turns = [];
    localStorage.removeItem(KEY);
  }

  add(question) {
    const turn = {
      id: crypto.randomUUID ? crypto.randomUUID() : String(Date.now() + Math.random()),
      question,
      searched: null,
      answerer: null,
      partial: "",
      result: null,
      status: "streaming",
      error: null,
    };
    this.turns.push(turn);
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
}
