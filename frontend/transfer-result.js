// The upload page's start and end of a transfer: the files sent in one go are opened as one
// transfer before the first byte goes, and closed when the last is in. Then the page shows the
// transfer's one share link (copy, QR code) and its one manage link, and asks before the page
// is left while the manage link has not been saved (copied, or "I saved it" ticked).
const STORED = "mediahub.transfer";
let transferId = sessionStorage.getItem(STORED);

// Opens a transfer unless one is open for this page (kept across a reload, for uploads that
// resume). The form's e-mail address and link lifetime go with it.
export async function openTransfer(api, form) {
  if (transferId) return transferId;
  const data = new FormData(form);
  const started = await api("POST", "/api/transfers", {
    email: (data.get("email") || "").trim() || null,
    link_seconds: data.get("link_seconds") ? Number(data.get("link_seconds")) : null,
    retention_days: data.get("retention_days") ? Number(data.get("retention_days")) : null,
  });
  transferId = started.transfer_id;
  sessionStorage.setItem(STORED, transferId);
  capped = started.capped || "";
  return transferId;
}

let capped = "";
let unsaved = false;
let reopening = null;

// Sends with the open transfer's id; when the site no longer knows it for this browser (the
// session ended, say after signing out, while the tab kept its id) or it is finished, opens a
// new transfer once, for every file waiting on it, and sends again.
export async function withTransfer(api, form, send) {
  const used = transferId;
  try {
    return await send(used);
  } catch (err) {
    if (err.code !== "transfer_not_found" && err.code !== "transfer_closed") throw err;
    if (transferId === used && !reopening) {
      transferId = null;
      sessionStorage.removeItem(STORED);
      reopening = openTransfer(api, form).finally(() => {
        reopening = null;
      });
    }
    if (reopening) await reopening;
    return send(transferId);
  }
}

function warnBeforeLeaving(event) {
  if (!unsaved) return undefined;
  event.preventDefault();
  event.returnValue = ""; // the browser shows its own words
  return "";
}
window.addEventListener("beforeunload", warnBeforeLeaving);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function when(iso) {
  const date = new Date(iso);
  return element("time", { datetime: iso, title: iso, text: date.toLocaleString() });
}

async function copy(input, status) {
  try {
    await navigator.clipboard.writeText(input.value);
    status.textContent = "Copied.";
  } catch {
    input.focus();
    input.select();
    status.textContent = document.execCommand("copy") ? "Copied." : "Selected: press Ctrl+C (or ⌘C) to copy.";
  }
}

function copyRow(id, label, value, onCopied) {
  const input = element("input", { id, class: "link", type: "text", readonly: "", value, spellcheck: "false" });
  const status = element("span", { class: "copy-status", id: `${id}-status`, role: "status" });
  const button = element("button", { type: "button", class: "secondary small", id: `${id}-copy` }, "Copy",
    element("span", { class: "visually-hidden", text: ` ${label.toLowerCase()}` }));
  button.addEventListener("click", async () => {
    await copy(input, status);
    if (onCopied) onCopied();
  });
  return [element("label", { for: id, text: label }), element("div", { class: "copy-row" }, input, button, status)];
}

function qr(svgText) {
  const parsed = new DOMParser().parseFromString(svgText, "image/svg+xml").documentElement;
  return element("figure", {}, element("div", { class: "qr" }, document.importNode(parsed, true)),
    element("figcaption", { text: "Scan to open the share link on a phone." }));
}

function show(results, transfer) {
  const { links } = transfer;
  const parts = [element("h2", { id: "result-heading", text: `Uploaded: ${transfer.files.length} file${transfer.files.length === 1 ? "" : "s"}` })];
  const list = element("ul", { id: "result-files" });
  for (const file of transfer.files) {
    list.append(element("li", {}, element("a", { href: file.page, text: file.name || file.filename })));
  }
  parts.push(list);
  if (links.share) {
    const expiry = element("p", { id: "result-expiry" });
    expiry.append(transfer.link_follows_files ? "Anyone with this link can see and download the files until the files' own expiry, "
      : "Anyone with this link can see and download the files until ", when(transfer.link_expires_at), ".");
    parts.push(expiry);
    if (capped) parts.push(element("p", { class: "notice", id: "result-capped", text: capped }));
    parts.push(...copyRow("result-share-link", "Share link", links.share));
    if (transfer.qr_svg) parts.push(qr(transfer.qr_svg));
  }
  if (links.manage) {
    unsaved = true;
    const saved = () => {
      unsaved = false;
      box.checked = true;
    };
    parts.push(element("p", { class: "warning", id: "manage-once", text: "Save the manage link now: it is shown only "
      + "here. With it you share by e-mail, set a password, change the expiry, withdraw the link or delete the files. "
      + "Keep it to yourself." }));
    parts.push(...copyRow("result-manage-link", "Manage link", links.manage, saved));
    const box = element("input", { type: "checkbox", id: "manage-saved" });
    box.addEventListener("change", () => {
      unsaved = !box.checked;
    });
    parts.push(element("p", { class: "check" }, box, " ", element("label", { for: "manage-saved", text: "I saved the manage link" })));
  }
  if (transfer.mailed_to) {
    parts.push(element("p", { class: "note", id: "result-mailed", text: `Both links were also mailed to ${transfer.mailed_to}.` }));
  }
  results.replaceChildren(...parts);
  results.hidden = false;
  results.focus();
}

// Closes the open transfer; with a place to show them, shows its links there.
export async function finishTransfer(api, results) {
  if (!transferId) return null;
  const id = transferId;
  transferId = null;
  sessionStorage.removeItem(STORED);
  const { transfer } = await api("POST", `/api/transfers/${encodeURIComponent(id)}/finish`, {});
  if (results) show(results, transfer);
  return transfer;
}
