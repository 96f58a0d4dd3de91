// The side list of chats: open one, rename it, export it as Markdown, delete it (after asking).

import { byId, el } from "./dom.js";

export class ChatList {
  /** `actions` has select(chat), rename(chat, name), exportChat(chat) and remove(chat). */
  constructor(store, actions) {
    this.store = store;
    this.actions = actions;
    this.panel = byId("chats-panel");
    this.list = byId("chat-list");
    this.toggle = byId("open-chats");
    this.toggle.addEventListener("click", () => this.setOpen(!this.isOpen, true));
    byId("chats-close").addEventListener("click", () => this.setOpen(false, true));
    // On a phone the list covers the chat: a tap outside it closes it, as a drawer does.
    document.addEventListener("click", (event) => {
      if (this.isOpen && this.covers && !this.panel.contains(event.target) && !this.toggle.contains(event.target)) {
        this.setOpen(false);
      }
    });
    const wide = window.matchMedia("(min-width: 1100px)").matches;
    this.setOpen(wide && localStorage.getItem("dossier.chats.open") !== "false");
  }

  get isOpen() {
    return !this.panel.classList.contains("is-closed");
  }

  /** Narrow screens show the list over the chat: a choice there closes it. */
  get covers() {
    return window.matchMedia("(max-width: 760px)").matches;
  }

  setOpen(open, chosen = false) {
    this.panel.classList.toggle("is-closed", !open);
    this.toggle.setAttribute("aria-expanded", String(open));
    if (!chosen) return;
    try {
      localStorage.setItem("dossier.chats.open", String(open));
    } catch {
      // not kept
    }
    if (open) byId("chats-heading").focus();
    else this.toggle.focus();
  }

  render() {
    this.list.replaceChildren(...this.store.list.map((chat) => this.item(chat)));
  }

  item(chat) {
    const current = chat === this.store.current;
    const name = chat.name;
    return el("li", { className: `chat-item${current ? " is-current" : ""}`, dataset: { chat: chat.id } },
      el("button", {
        type: "button",
        className: "chat-open",
        "aria-current": current ? "true" : null,
        title: name,
        onclick: () => {
          this.actions.select(chat);
          if (this.covers) this.setOpen(false);
          byId("question").focus();
        },
      }, name),
      el("span", { className: "chat-actions" },
        el("button", { type: "button", className: "icon quiet", "aria-label": `Rename chat: ${name}`, title: "Rename",
          onclick: () => this.rename(chat) }, "✎"),
        el("button", { type: "button", className: "icon quiet", "aria-label": `Export chat as Markdown: ${name}`,
          title: "Export as Markdown", disabled: !chat.turns.length, onclick: () => this.actions.exportChat(chat) }, "⤓"),
        el("button", { type: "button", className: "icon quiet danger", "aria-label": `Delete chat: ${name}`, title: "Delete",
          onclick: (event) => this.remove(chat, event.currentTarget) }, "×"),
      ),
    );
  }

  rename(chat) {
    const dialog = byId("rename-dialog");
    const input = byId("rename-input");
    input.value = chat.name;
    byId("rename-cancel").onclick = () => dialog.close("");
    byId("rename-form").onsubmit = (event) => {
      event.preventDefault();
      if (input.value.trim()) dialog.close("rename");
    };
    dialog.addEventListener("close", () => {
      if (dialog.returnValue === "rename") this.actions.rename(chat, input.value);
      this.focusItem(chat);
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    input.select();
  }

  remove(chat, button) {
    const dialog = byId("confirm-chat-delete");
    byId("chat-delete-text").textContent =
      `“${chat.name}” and its ${chat.turns.length === 1 ? "answer" : "answers"} will be deleted from this browser.`;
    byId("chat-delete-cancel").onclick = () => dialog.close("");
    byId("chat-delete-accept").onclick = () => dialog.close("delete");
    dialog.addEventListener("close", () => {
      if (dialog.returnValue === "delete") {
        this.actions.remove(chat);
        byId("chats-heading").focus();
      } else {
        button.focus();
      }
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    byId("chat-delete-cancel").focus();
  }

  focusItem(chat) {
    const item = this.list.querySelector(`[data-chat="${CSS.escape(chat.id)}"] .chat-open`);
    if (item) item.focus();
  }
}
