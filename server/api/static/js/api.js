// Talking to Dossier's HTTP API. Every failure becomes an ApiError with one readable sentence,
// built from the RFC 9457 problem details the server sends, never shown as raw JSON. A 401 asks
// for the server's API key (auth.js) and sends the request again with it.

import { apiKey, keyAfterRefusal, withKey } from "./auth.js";

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
  for (;;) {
    const sent = apiKey();
    let response;
    try {
      response = await fetch(path, { ...options, headers: withKey(options.headers) });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw UNREACHABLE;
    }
    if (response.status === 401 && (await keyAfterRefusal(sent))) continue;
    if (!response.ok) throw await problemOf(response);
    return response;
  }
}

export async function getJSON(path) {
  return (await request(path, { headers: { Accept: "application/json" } })).json();
}

/** Delete a document; one ingested from a folder needs `replace` (the server refuses it otherwise). */
export async function deleteDocument(docId, replace = false) {
  const query = replace ? "?replace=true" : "";
  const response = await request(`/v1/documents/${encodeURIComponent(docId)}${query}`, { method: "DELETE" });
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
 * Ask `/v1/chat` to stream, from the articles `filters` allow; calls onEvent(name, data) for each Server-Sent Event.
 * EventSource cannot POST, so the stream is read from fetch.
 */
export async function streamChat(messages, filters, onEvent, signal) {
  const response = await request("/v1/chat", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify({ messages, filters: filters || {}, stream: true }),
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

/** Poll an upload job until it is done: its ingest summary, or its problem as an ApiError. */
export async function waitForJob(job) {
  while (job.state === "queued" || job.state === "running") {
    await new Promise((resolve) => setTimeout(resolve, 400));
    job = await getJSON(`/v1/jobs/${encodeURIComponent(job.id)}`);
  }
  if (job.state === "succeeded") return job.result;
  const problem = job.error || {};
  throw new ApiError(
    problem.title || "Upload failed",
    problem.detail || "The upload could not be ingested.",
    problem.status || 0,
    problem.type,
  );
}

/** Upload files as multipart; onProgress(fraction) while sending (fetch cannot report that).
 *  Resolves with the queued job (`{job}`): `waitForJob` follows it. */
export async function uploadDocuments(files, onProgress) {
  for (;;) {
    const sent = apiKey();
    try {
      return await sendFiles(files, onProgress);
    } catch (error) {
      if (!(error.status === 401 && (await keyAfterRefusal(sent)))) throw error;
    }
  }
}

function sendFiles(files, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const file of files) form.append("files", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/documents");
    xhr.setRequestHeader("Accept", "application/json");
    for (const [name, value] of Object.entries(withKey())) xhr.setRequestHeader(name, value);
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
