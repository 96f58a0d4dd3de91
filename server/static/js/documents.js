// The documents panel: what is in the index, uploading more (file picker or drag and drop)
// and deleting, with confirmation.

import { deleteDocument, forgetDocument, getJSON, uploadDocuments, waitForJob } from "./api.js";
import { byId, count, el, formatDate } from "./dom.js";

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
      this.list.replaceChildren();
      const empty = error.noIndexYet;
      this.message.textContent = empty
        ? "No documents yet. Upload articles above to start."
        : `${error.title}: ${error.detail}`;
      this.message.className = empty ? "hint" : "error";
      if (empty) this.onChange(0, 0);
      return;
    }
    this.message.className = "hint";
    this.message.textContent = body.count ? `${count(body.count, "document")} in the index.` : "No documents yet.";
    this.list.replaceChildren(...body.documents.map((doc) => this.item(doc)));
    this.onChange(body.count, body.documents.reduce((sum, doc) => sum + doc.chunk_count, 0));
  }

  item(doc) {
    const date = formatDate(doc.published_at);
    return el("li", { className: "document", dataset: { docId: doc.doc_id } },
      el("div", { className: "document-text" },
        el("p", { className: "document-title" }, doc.title),
        el("p", { className: "document-meta" },
          date ? el("time", { datetime: doc.published_at }, date) : "Date unknown",
          ` · ${count(doc.chunk_count, "passage")} · ${doc.doc_id}`),
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
      `“${doc.title}” (${doc.doc_id}) will no longer be searched or cited. ` +
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
    this.message.textContent = `Deleted “${doc.title}”. ${this.message.textContent}`;
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
