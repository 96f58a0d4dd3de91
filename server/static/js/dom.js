// Building the page from data. Everything that came from the server or the user goes in as
// text (textContent, attribute values), never as HTML: an article holding <script> shows it.

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

/** "19 January 2026" from an ISO date; the text as given when it is not one. */
export function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });
}

/** Python string offsets count code points; JavaScript's count UTF-16 units. */
export function sliceCodePoints(text, start, end) {
  const points = Array.from(text);
  return [points.slice(0, start).join(""), points.slice(start, end).join(""), points.slice(end).join("")];
}

/** Plural-aware count: count(3, "passage") is "3 passages". */
export function count(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** Keep a tooltip on screen: below its anchor near the top, aligned to an edge near the sides. */
export function placeTip(anchor) {
  const box = anchor.getBoundingClientRect();
  const half = Math.min(384, window.innerWidth * 0.8) / 2;
  anchor.classList.toggle("tip-below", box.top < 220);
  anchor.classList.toggle("tip-start", box.left + box.width / 2 < half);
  anchor.classList.toggle("tip-end", window.innerWidth - box.right + box.width / 2 < half);
}
