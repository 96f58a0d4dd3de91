// The documents panel: what is in the index, searched and sorted as a reader likes, uploading
// more (file picker or drag and drop) and deleting, with confirmation.

import { safeUrl } from "./answer.js";
import { deleteDocument, forgetDocument, getJSON, uploadDocuments, waitForJob } from "./api.js";
import { byId, count, el, formatDate } from "./dom.js";

const collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });

/** The orders of the sort menu, by its option values; every one ends on the title. */
const ORDERS = {
  newest: (a, b) => byDate(a, b, -1),
  oldest: (a, b) => byDate(a, b, 1),
  title: byTitle,
  source: (a, b) =>
    missingLast(a.source, b.source) || collator.compare(a.source || "", b.source || "") || byTitle(a, b),
};

export class DocumentsPanel {
  constructor(onChange, onOpen) {
    this.onChange = onChange;  // called with the document and passage counts after every refresh
    this.onOpen = onOpen;
    this.panel = byId("documents-panel");
    this.toggle = byId("open-documents");
    this.list = byId("document-list");
    this.message = byId("documents-message");
    this.dropZone = byId("drop-zone");
    this.fileInput = byId("file-input");
    this.progress = byId("upload-progress");
    this.uploadMessage = byId("upload-message");
    this.skipped = byId("upload-skipped");
    this.confirm = byId("confirm-delete");
    this.tools = byId("document-tools");
    this.search = byId("document-search");
    this.sort = byId("document-sort");
    this.shown = byId("document-shown");
    this.noMatch = byId("document-no-match");
    this.documents = [];
    this.search.addEventListener("input", () => this.render());
    this.search.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !this.search.value) return;
      // The first Escape empties the search; only the next one closes the panel (app.js).
      event.preventDefault();
      event.stopPropagation();
      this.clearSearch();
    });
    this.sort.addEventListener("change", () => this.render());
    byId("document-search-clear").addEventListener("click", () => this.clearSearch());
    this.toggle.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    byId("documents-close").addEventListener("click", () => this.close());
    this.fileInput.addEventListener("change", () => {
      this.upload([...this.fileInput.files]);
      this.fileInput.value = "";
    });
    this.listenForDrops();
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  open() {
    this.onOpen();
    this.panel.hidden = false;
    this.toggle.setAttribute("aria-expanded", "true");
    document.body.classList.add("documents-open");
    byId("documents-heading").focus();
    this.refresh();
  }

  close() {
    this.panel.hidden = true;
    this.toggle.setAttribute("aria-expanded", "false");
    document.body.classList.remove("documents-open");
    this.toggle.focus();
  }

  async refresh() {
    let body;
    try {
      body = await getJSON("/v1/documents");
    } catch (error) {
      this.documents = [];
      this.render();
      const empty = error.noIndexYet;
      this.message.textContent = empty
        ? "No documents yet. Upload articles above to start."
        : `${error.title}: ${error.detail}`;
      this.message.className = empty ? "hint" : "error";
      if (empty) this.onChange(0, 0);
      return;
    }
    this.message.className = "hint";
    this.message.textContent = body.count ? "" : "No documents yet.";
    this.documents = body.documents;
    this.render();  // the search and the sort stay as the reader left them
    this.onChange(body.count, body.documents.reduce((sum, doc) => sum + doc.chunk_count, 0));
  }

  /** The list as the search and the sort ask for it, with how many of the documents it shows. */
  render() {
    const total = this.documents.length;
    const words = folded(this.search.value).split(/\s+/).filter(Boolean);
    const shown = this.documents.filter((doc) => matches(doc, words));
    shown.sort(ORDERS[this.sort.value] || ORDERS.newest);
    this.list.replaceChildren(...shown.map((doc) => this.item(doc)));
    this.tools.hidden = total === 0;
    const all = count(total, "document");
    this.shown.textContent = words.length ? `${shown.length} of ${all}` : all;
    this.noMatch.hidden = shown.length > 0 || total === 0;
    byId("document-no-match-text").textContent =
      `No document matches “${this.search.value.trim()}”. The search looks in titles, sources and authors.`;
  }

  clearSearch() {
    this.search.value = "";
    this.render();
    this.search.focus();
  }

  item(doc) {
    const date = formatDate(doc.published_at);
    const url = safeUrl(doc.url);
    const byline = [doc.source, doc.author && `by ${doc.author}`].filter(Boolean).join(" · ");
    // The id stays out of the reader's view: a data attribute, for scripts and tests.
    return el("li", { className: "document", dataset: { docId: doc.doc_id } },
      el("div", { className: "document-text" },
        el("p", { className: "document-title" }, doc.title),
        byline ? el("p", { className: "document-byline" }, byline) : null,
        el("p", { className: "document-meta" },
          date ? el("time", { datetime: doc.published_at }, date) : "Date unknown",
          ` · ${count(doc.chunk_count, "passage")}`,
          url ? [" · ", el("a", {
            href: url,
            target: "_blank",
            rel: "noopener noreferrer",
            "aria-label": `Original article: ${doc.title} (opens in a new tab)`,
          }, "Original article")] : null,
        ),
        el("p", { className: "document-origin" }, originLine(doc)),
      ),
      el("button", {
        type: "button",
        className: "danger quiet",
        "aria-label": `Delete ${doc.title}`,
        onclick: (event) => this.remove(doc, event.currentTarget),
      }, "Delete"),
    );
  }

  listenForDrops() {
    const zone = this.dropZone;
    for (const name of ["dragenter", "dragover"]) {
      zone.addEventListener(name, (event) => {
        event.preventDefault();
        zone.classList.add("is-dragging");
      });
    }
    for (const name of ["dragleave", "drop"]) {
      zone.addEventListener(name, () => zone.classList.remove("is-dragging"));
    }
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      this.upload([...event.dataTransfer.files]);
    });
    // A file dropped anywhere else would make the browser navigate away to show it.
    window.addEventListener("dragover", (event) => event.preventDefault());
    window.addEventListener("drop", (event) => event.preventDefault());
  }

  async upload(files) {
    if (!files.length) return;
    const names = files.map((file) => file.name).join(", ");
    this.skipped.replaceChildren();
    this.uploadMessage.className = "";
    this.uploadMessage.textContent = `Uploading ${names}…`;
    this.progress.hidden = false;
    this.progress.value = 0;
    let report;
    try {
      const accepted = await uploadDocuments(files, (fraction) => {
        this.progress.value = Math.round(fraction * 100);
        if (fraction >= 1) this.uploadMessage.textContent = `Ingesting ${names}: cleaning, chunking, embedding…`;
      });
      this.uploadMessage.textContent = `Ingesting ${names}: cleaning, chunking, embedding…`;
      report = await waitForJob(accepted.job);
    } catch (error) {
      this.uploadMessage.className = "error";
      this.uploadMessage.textContent = `${error.title}: ${error.detail}`;
      return;
    } finally {
      this.progress.hidden = true;
    }
    for (const docId of report.updated) forgetDocument(docId);
    this.uploadMessage.className = "success";
    this.uploadMessage.textContent = `Ingested in ${report.seconds.toFixed(1)} s: ${report.summary}.`;
    this.skipped.replaceChildren(...report.skipped.map((s) => el("li", {}, `${s.file}: ${s.reason}`)));
    await this.refresh();
  }

  async remove(doc, button) {
    byId("confirm-text").textContent =
      `“${doc.title}” will no longer be searched or cited. ` +
      "An uploaded file is deleted with it; a file in a folder you ingested stays there, " +
      "and ingesting that folder again adds it back.";
    const confirmed = await this.confirmed();
    if (!confirmed) {
      button.focus();
      return;
    }
    try {
      await deleteDocument(doc.doc_id, doc.origin === "folder");
    } catch (error) {
      this.message.className = "error";
      this.message.textContent = `${error.title}: ${error.detail}`;
      return;
    }
    forgetDocument(doc.doc_id);
    await this.refresh();
    this.message.textContent = `Deleted “${doc.title}”. ${this.message.textContent}`.trim();
    byId("documents-heading").focus();
  }

  confirmed() {
    return new Promise((resolve) => {
      const dialog = this.confirm;
      const decide = (answer) => () => dialog.close(answer);
      const cancel = byId("confirm-cancel");
      const accept = byId("confirm-accept");
      cancel.onclick = decide("cancel");
      accept.onclick = decide("delete");
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "delete"), { once: true });
      dialog.returnValue = "";
      dialog.showModal();
      cancel.focus();
    });
  }
}

/** Where a document came from and its last change: "from folder data/articles · added … by …". */
function originLine(doc) {
  const origin = doc.origin === "upload" ? "uploaded" : `from folder ${doc.origin_folder || "?"}`;
  const last = (doc.history || []).at(-1);
  if (!last) return origin;
  const when = formatDate(last.at.slice(0, 10)) || last.at;
  return `${origin} · ${last.action} ${when} by ${last.by} (${last.route})`;
}

/** Lower case without accents, so "zurich" finds "Zürich" and "ECONOMIE" finds "Économie". */
function folded(text) {
  return (text || "").normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

/** Every word of the search is in the title, the publisher, the author or the id. */
function matches(doc, words) {
  const haystack = folded([doc.title, doc.source, doc.author, doc.doc_id].join(" "));
  return words.every((word) => haystack.includes(word));
}

/** A document without the value goes after those with it, whichever the direction. */
function missingLast(x, y) {
  return Number(!x) - Number(!y);
}

function byTitle(a, b) {
  return collator.compare(a.title, b.title) || collator.compare(a.doc_id, b.doc_id);
}

/** By publication date (ISO strings order as dates), `direction` 1 oldest first; undated last. */
function byDate(a, b, direction) {
  const [x, y] = [a.published_at, b.published_at];
  const order = x && y && x !== y ? (x < y ? -direction : direction) : 0;
  return missingLast(x, y) || order || byTitle(a, b);
}
