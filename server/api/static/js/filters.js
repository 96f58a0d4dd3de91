// The composer's filters: a date range and a source, shown as removable chips and applied to
// every question of the conversation (follow-ups included) until removed.

import { byId, el, formatDate } from "./dom.js";

export class FilterBar {
  /** onChange(filters) after each change; filters are {published_from, published_to, source}. */
  constructor(onChange) {
    this.onChange = onChange;
    this.filters = {};
    this.chips = byId("filter-chips");
    this.form = byId("filter-form");
    this.toggle = byId("filter-toggle");
    this.from = byId("filter-from");
    this.to = byId("filter-to");
    this.source = byId("filter-source");
    this.error = byId("filter-error");
    this.toggle.addEventListener("click", () => this.setOpen(this.form.hidden, true));
    byId("filter-apply").addEventListener("click", () => this.apply());
    this.form.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.apply();
      } else if (event.key === "Escape") {
        event.stopPropagation();
        this.setOpen(false);
        this.toggle.focus();
      }
    });
  }

  /** The sources and dates the corpus holds: the choices offered. */
  setCorpus(corpus) {
    const chosen = this.source.value;
    this.source.replaceChildren(el("option", { value: "" }, "Any source"),
      ...corpus.sources.map((s) => el("option", { value: s.name }, `${s.name} (${s.documents})`)));
    this.source.value = chosen;
    for (const input of [this.from, this.to]) {
      input.min = corpus.published_from || "";
      input.max = corpus.published_to || "";
    }
  }

  show(filters) {
    this.filters = { ...filters };
    this.from.value = filters.published_from || "";
    this.to.value = filters.published_to || "";
    if (filters.source && ![...this.source.options].some((o) => o.value === filters.source)) {
      this.source.append(el("option", { value: filters.source }, filters.source));
    }
    this.source.value = filters.source || "";
    this.renderChips();
  }

  setOpen(open, focus = false) {
    this.form.hidden = !open;
    this.toggle.setAttribute("aria-expanded", String(open));
    this.error.hidden = true;
    if (open && focus) this.from.focus();
  }

  /** Apply what the open form holds, as if Apply was pressed; false when it holds a wrong range. */
  applyOpenForm() {
    if (this.form.hidden) return true;
    return this.apply(false);
  }

  apply(focusQuestion = true) {
    const filters = {};
    if (this.from.value) filters.published_from = this.from.value;
    if (this.to.value) filters.published_to = this.to.value;
    if (this.source.value) filters.source = this.source.value;
    if (filters.published_from && filters.published_to && filters.published_from > filters.published_to) {
      this.error.textContent = "The start date is after the end date.";
      this.error.hidden = false;
      this.from.focus();
      return false;
    }
    this.setOpen(false);
    this.change(filters);
    if (focusQuestion) byId("question").focus();
    return true;
  }

  remove(name) {
    const filters = { ...this.filters };
    delete filters[name];
    this.change(filters);
    byId("question").focus();
  }

  change(filters) {
    this.show(filters);
    this.onChange(this.filters);
  }

  renderChips() {
    const chips = [];
    const { published_from: from, published_to: to, source } = this.filters;
    if (from) chips.push(this.chip("published_from", `From ${formatDate(from)}`));
    if (to) chips.push(this.chip("published_to", `To ${formatDate(to)}`));
    if (source) chips.push(this.chip("source", `Source: ${source}`));
    this.chips.replaceChildren(...chips);
    this.chips.hidden = !chips.length;
    this.toggle.classList.toggle("is-active", chips.length > 0);
  }

  chip(name, label) {
    return el("span", { className: "filter-chip", dataset: { filter: name } },
      label,
      el("button", {
        type: "button",
        className: "icon quiet",
        "aria-label": `Remove the filter ${label}`,
        onclick: () => this.remove(name),
      }, "×"));
  }
}
