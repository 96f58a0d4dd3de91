// The API key, for a server that requires one (DOSSIER_API_KEYS): asked for in a dialog the first
// time the server answers 401, kept for this tab only (sessionStorage), sent on every API call.

import { byId } from "./dom.js";

const STORAGE = "dossier.apiKey";
let asking = null;  // the dialog's answer, shared by every request that got a 401 while it is open

export function apiKey() {
  try {
    return sessionStorage.getItem(STORAGE);
  } catch {
    return null;  // storage disabled: the key is asked for again on the next 401
  }
}

/** `headers` plus the key's Authorization header, when there is a key. */
export function withKey(headers = {}) {
  const key = apiKey();
  return key ? { ...headers, Authorization: `Bearer ${key}` } : headers;
}

/**
 * After a 401 to a request sent with key `sent` (null: none): the key to retry with, or null when
 * the user cancels. A request that failed with a key already replaced meanwhile retries at once.
 */
export async function keyAfterRefusal(sent) {
  const current = apiKey();
  if (current && current !== sent) return current;
  if (current) forget();
  asking ??= askForKey(Boolean(sent)).finally(() => {
    asking = null;
  });
  const key = await asking;
  if (key) remember(key);
  return key;
}

function remember(key) {
  try {
    sessionStorage.setItem(STORAGE, key);
  } catch {
    // not kept: asked for again next time
  }
}

function forget() {
  try {
    sessionStorage.removeItem(STORAGE);
  } catch {
    // nothing kept
  }
}

function askForKey(wasRefused) {
  const dialog = byId("key-dialog");
  const form = byId("key-form");
  const input = byId("key-input");
  const refused = byId("key-refused");
  const opener = document.activeElement;
  refused.hidden = !wasRefused;
  input.value = "";
  return new Promise((resolve) => {
    byId("key-cancel").onclick = () => dialog.close("");
    form.onsubmit = (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (key) dialog.close(key);
    };
    dialog.addEventListener("close", () => {
      if (opener && opener.isConnected) opener.focus();
      resolve(dialog.returnValue || null);
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    input.focus();
  });
}
