// An answer with its sources as Markdown, for pasting into notes or a draft.

import { formatDate } from "./dom.js";
import { answererLabel, safeUrl } from "./answer.js";

export function answerAsMarkdown(turn) {
  const result = turn.result;
  const lines = [`**Question:** ${turn.question}`, ""];
  if (turn.searched) lines.push(`*Searched for:* ${turn.searched}`, "");
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
