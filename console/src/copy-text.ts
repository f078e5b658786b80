/**
 * Copies text to the clipboard. The Clipboard API exists only in secure contexts (https or
 * localhost); a console opened over plain http on another host falls back to a selection copy.
 */
export async function copyText(text: string): Promise<void> {
  if (window.isSecureContext && navigator.clipboard) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  document.body.append(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  if (!copied) throw new Error("The browser refused to copy; select the text and copy it by hand.");
}
