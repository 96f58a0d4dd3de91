// An answer with its sources as Markdown, for pasting into notes or a draft.

import { formatDate } from "./dom.js";
import { answererLabel, describeFilters, safeUrl } from "./answer.js";

export function answerAsMarkdown(turn) {
  const result = turn.result;
  const lines = [`**Question:** ${escapeMarkdown(turn.question)}`, ""];
  const filters = describeFilters(turn.filters);
  if (filters) lines.push(`*Only ${filters}.*`, "");
  if (turn.searched) lines.push(`*Searched for:* ${turn.searched}`, "");
  if (result.short_answer && !result.abstained) lines.push(`**Answer:** ${result.short_answer.text} [${result.short_answer.citation_id}]`, "");
  if (result.abstained && result.abstention_reason) lines.push(`*${result.abstention_reason}*`, "");
  lines.push(result.abstained ? `*The sources don't say.* ${result.answer}` : result.answer, "");
  if (result.unsupported.length) {
    lines.push("**Not supported by the cited sources:**", "");
    for (const sentence of result.unsupported) lines.push(`- ${sentence.text} (${sentence.reason || "unsupported"})`);
    lines.push("");
  }
  if (result.citations.length) {
    lines.push("**Sources**", "");
    for (const c of result.citations) {
      const date = formatDate(c.published_at);
      const url = safeUrl(c.url);
      const where = `${c.title}, ${date || "date unknown"}`;
      lines.push(`[${c.id}] “${c.quote}” (${where}${url ? `, <${url}>` : ""}; \`${c.doc_id}\` characters ${c.start_char}–${c.end_char})`);
    }
    lines.push("");
  }
  lines.push(`*Answered by ${answererLabel(result.answerer)} in Dossier.*`);
  return lines.join("\n");
}

/** A whole conversation: every answered turn as `answerAsMarkdown` gives it, the rest noted. */
export function conversationAsMarkdown(chat) {
  const parts = [`# ${escapeMarkdown(chat.name)}`, "", `*Exported from Dossier on ${new Date().toISOString().slice(0, 10)}.*`];
  for (const turn of chat.turns) {
    parts.push("", "---", "");
    if (turn.status === "done" && turn.result) parts.push(answerAsMarkdown(turn));
    else parts.push(`**Question:** ${escapeMarkdown(turn.question)}`, "", `*No answer (${turn.status}).*`);
  }
  return `${parts.join("\n")}\n`;
}

/** What a reader typed, kept from turning into HTML or markup in the .md ("<b>" stays text). */
export function escapeMarkdown(text) {
  return text.replace(/[\\`*_<>[\]#|]/g, (character) => `\\${character}`);
}

/** Save `text` as a file the browser downloads. */
export function download(filename, text, type = "text/markdown") {
  const url = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** "india-japan-ties.md" from a chat's name. */
export function markdownFilename(name) {
  const slug = name.normalize("NFKD").replace(/[^\w\s-]/g, "").trim().toLowerCase().replace(/[\s_-]+/g, "-").slice(0, 60);
  return `${slug || "dossier-chat"}.md`;
}

/** Clipboard API where the page is a secure context (localhost is); a hidden textarea elsewhere. */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // permission refused: fall back below
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "visually-hidden";
  document.body.append(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  if (!copied) throw new Error("The browser refused to copy.");
}
