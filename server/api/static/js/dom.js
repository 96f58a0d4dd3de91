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

/** Tips on show follow their anchors when a region scrolls. */
export function followTips() {
  for (const anchor of document.querySelectorAll(".has-tip:hover, .has-tip:focus-visible")) placeTip(anchor);
}

/** "16–19 January 2026" from two ISO dates (one date when they are the same day). */
export function formatDateRange(from, to) {
  if (!from || !to) return formatDate(from || to);
  const start = new Date(`${from}T00:00:00Z`);
  const end = new Date(`${to}T00:00:00Z`);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return `${from} – ${to}`;
  const format = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });
  return from === to ? format.format(start) : format.formatRange(start, end);
}

const TIP_GAP = 6;
const EDGE = 8;

/**
 * Place an anchor's tooltip inside the viewport: above the anchor, or below it when the header (or
 * the window's top) leaves no room, and shifted sideways to stay clear of the edges. The tip is
 * `position: fixed`, so no scrolling region clips it.
 */
export function placeTip(anchor) {
  const tip = anchor.querySelector(":scope > .tip");
  if (!tip) return;
  const place = () => {
    const box = anchor.getBoundingClientRect();
    const width = tip.offsetWidth;
    const height = tip.offsetHeight;
    const header = document.querySelector(".topbar");
    const ceiling = (header ? header.getBoundingClientRect().bottom : 0) + EDGE;
    const above = box.top - TIP_GAP - height;
    const below = box.bottom + TIP_GAP;
    const fitsBelow = below + height <= window.innerHeight - EDGE;
    const top = above >= ceiling || !fitsBelow ? Math.max(above, EDGE) : below;
    const centred = box.left + box.width / 2 - width / 2;
    const left = Math.min(Math.max(centred, EDGE), window.innerWidth - width - EDGE);
    tip.style.top = `${Math.round(top)}px`;
    tip.style.left = `${Math.round(Math.max(left, EDGE))}px`;
    // An anchor scrolled out of its region keeps no tip floating over other text.
    const region = anchor.closest(".scroller, .panel");
    const shown = region ? region.getBoundingClientRect() : { top: 0, bottom: window.innerHeight };
    tip.style.visibility = box.bottom < shown.top || box.top > shown.bottom ? "hidden" : "visible";
  };
  place();
  requestAnimationFrame(place);  // once the :hover or :focus style has shown it at full size
}
