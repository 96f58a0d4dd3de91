// The conversation's scrolling: the newest question and answer brought into view when they appear
// and when they finish, unless the reader has scrolled up to read; then a "jump to latest" button.

import { followTips } from "./dom.js";

const NEAR_END = 48;  // px from the end that still count as reading the latest
const SETTLE_MS = 200;  // scroll events this soon after a resize are the layout's, not the reader's

export class Scroller {
  constructor(region, jump, latest, onJump) {
    this.region = region;
    this.jump = jump;
    this.latest = latest;  // () => the newest turn's element
    this.following = true;
    this.atEndBefore = true;  // where the reader was when the region last changed size
    this.ownScroll = null;  // the scrollTop this code set: its scroll event is not the reader's
    this.resizedAt = 0;
    region.addEventListener("scroll", () => this.onScroll());
    jump.addEventListener("click", () => {
      this.toLatest();
      onJump();
    });
    new ResizeObserver(() => this.onResize()).observe(region);
  }

  onScroll() {
    followTips();
    if (this.ownScroll !== null && Math.abs(this.region.scrollTop - this.ownScroll) < 2) return;
    this.ownScroll = null;
    if (performance.now() - this.resizedAt < SETTLE_MS) return;
    this.following = this.atEnd();
    this.atEndBefore = this.following;
    this.jump.hidden = this.following;
  }

  /** The question box grew, a panel opened, the phone's keyboard came up: keep the reader's place. */
  onResize() {
    this.resizedAt = performance.now();
    if (!this.following) return;
    if (this.atEndBefore) this.scrollTo(this.region.scrollHeight - this.region.clientHeight);
    else this.bringIntoView(this.latest());
  }

  atEnd() {
    const region = this.region;
    return region.scrollHeight - region.scrollTop - region.clientHeight < NEAR_END;
  }

  /** Follow the latest turn again and show it. */
  toLatest() {
    this.following = true;
    this.jump.hidden = true;
    this.bringIntoView(this.latest());
  }

  /**
   * Show `turn` (the newest): all of it when it fits, else from its question down. A new question
   * (`asked`) is always shown; an update only while the reader follows the latest.
   */
  bringIntoView(turn, asked = false) {
    if (!turn) return;
    if (asked) this.following = true;
    if (!this.following) {
      this.jump.hidden = this.atEnd();
      return;
    }
    const region = this.region;
    const end = region.scrollHeight - region.clientHeight;
    const fits = turn.offsetHeight + 16 <= region.clientHeight;
    const start = turn.offsetTop - 8;  // the region is the turn's offset parent
    this.scrollTo(fits ? end : Math.min(start, end));
    this.atEndBefore = fits;
    this.jump.hidden = true;
  }

  scrollTo(top) {
    this.ownScroll = Math.max(0, top);
    this.region.scrollTop = this.ownScroll;
  }
}
