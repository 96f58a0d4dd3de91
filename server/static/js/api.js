// Talking to Dossier's HTTP API. Every failure becomes an ApiError with one readable sentence,
// built from the RFC 9457 problem details the server sends, never shown as raw JSON.

export class ApiError extends Error {
  constructor(title, detail, status = 0, type = "about:blank") {
    super(detail);
    this.title = title;
    this.detail = detail;
    this.status = status;
    this.type = type;
  }

  get noIndexYet() {
    return this.type === "/problems/index-not-found";
  }

  toJSON() {
    return { title: this.title, detail: this.detail, status: this.status };
  }
}

const UNREACHABLE = new ApiError(
  "Server unreachable",
  "Dossier's server did not answer. Check that it is running (dossier serve), then try again.",
);

async function problemOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON (a proxy's error page, say): the status line is all there is
  }
  const title = (body && body.title) || response.statusText || "Request failed";
  const detail = (body && (body.detail || (body.error && body.error.message))) ||
    `The server answered ${response.status} ${response.statusText}.`;
  return new ApiError(title, detail, response.status, body && body.type);
}

async function request(path, options = {}) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw UNREACHABLE;
  }
  if (!response.ok) throw await problemOf(response);
  return response;
}

export async function getJSON(path) {
  return (await request(path, { headers: { Accept: "application/json" } })).json();
}

export async function deleteDocument(docId) {
  const response = await request(`/v1/documents/${encodeURIComponent(docId)}`, { method: "DELETE" });
  return response.json();
}

const documentCache = new Map();

/** An article's full text and metadata; kept, since citations of many answers point into it. */
export function getDocument(docId) {
  if (!documentCache.has(docId)) {
    const loading = getJSON(`/v1/documents/${encodeURIComponent(docId)}`);
    loading.catch(() => documentCache.delete(docId));
    documentCache.set(docId, loading);
  }
  return documentCache.get(docId);
}

export function forgetDocument(docId) {
  documentCache.delete(docId);
}

/**
 * Ask `/v1/chat` to stream; calls onEvent(name, data) for each Server-Sent Event.
 * EventSource cannot POST, so the stream is read from fetch.
 */
export async function streamChat(messages, onEvent, signal) {
  const response = await request("/v1/chat", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify({ messages, stream: true }),
    signal,
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n?/g, "\n");
      let boundary;
      while ((boundary = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const event = parseEvent(block);
        if (event) onEvent(event.name, event.data);
      }
    }
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError("Connection lost", "The connection to the server closed before the answer was complete.");
  } finally {
    reader.releaseLock();
  }
}

function parseEvent(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length) return null;
  return { name, data: JSON.parse(data.join("\n")) };
}

/** Upload files as multipart; onProgress(fraction) while sending (fetch cannot report that). */
export function uploadDocuments(files, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const file of files) form.append("files", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/documents");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.upload.addEventListener("load", () => onProgress(1));
    xhr.addEventListener("error", () => reject(UNREACHABLE));
    xhr.addEventListener("load", () => {
      const body = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        reject(new ApiError(
          (body && body.title) || "Upload failed",
          (body && body.detail) || `The server answered ${xhr.status} ${xhr.statusText}.`,
          xhr.status,
          body && body.type,
        ));
      }
    });
    xhr.send(form);
  });
}
