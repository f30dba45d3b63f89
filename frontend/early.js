// The upload page before and while files are sent: refusals per file, at once, in one
// sentence that names the file and says what is allowed; options that cannot be combined;
// one progress line per file with its speed and time left; paste anywhere on the page.

import { declaredType } from "./sniff.js";

export function humanSize(bytes) {
  if (bytes < 1000) return bytes + " bytes";
  let value = bytes;
  let unit = "";
  for (unit of ["kB", "MB", "GB", "TB"]) {
    value /= 1000;
    if (value < 1000) break;
  }
  return value.toFixed(1).replace(/\.0$/, "") + " " + unit;
}

function extensionOf(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

// Why the page refuses this file before reading it (its type or size), or null. The words
// come from the site's one list of allowed types (config.allowedText, webapp/rules.py).
export function refusedAtOnce(file, config) {
  const name = file.name || "This file";
  const type = declaredType(name, file.type, config);
  const byExtension = Object.values(config.types).some((extensions) => extensions.includes(extensionOf(name)));
  if (!(type in config.types) && !byExtension) {
    return `${name} was not added: ${config.viaLink ? "this link" : "this site"} takes only ${config.allowedText}.`;
  }
  if (file.size > config.maxBytes) {
    return `${name} was not added: it is ${humanSize(file.size)}, and the largest file you can upload ` +
      `${config.viaLink ? "through this link " : ""}is ${humanSize(config.maxBytes)}.`;
  }
  return null;
}

// The error lines under the Dashboard: one per file. A line about a file still in the list goes
// when the file is removed; a line about a refused file (never added) goes when its Dismiss
// button is pressed, or when the upload starts.
export function errorLines(uppy, box) {
  const lines = new Map();
  let refusedCount = 0;

  function update() {
    box.hidden = lines.size === 0;
  }

  function drop(key) {
    const line = lines.get(key);
    if (line) line.remove();
    lines.delete(key);
    update();
  }

  function show(message, fileId = null) {
    const key = fileId || `refused-${(refusedCount += 1)}`;
    drop(key);
    const line = document.createElement("p");
    line.className = "file-error";
    line.dataset.key = key;
    const text = document.createElement("span");
    text.textContent = message;
    line.append(text);
    if (!fileId) {
      const dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "link-button small";
      dismiss.textContent = "Dismiss";
      dismiss.setAttribute("aria-label", `Dismiss: ${message}`);
      dismiss.addEventListener("click", () => drop(key));
      line.append(" ", dismiss);
    }
    box.append(line);
    lines.set(key, line);
    update();
  }

  uppy.on("file-removed", (file) => file && drop(file.id));
  uppy.on("upload", () => {
    for (const key of [...lines.keys()]) if (key.startsWith("refused-")) drop(key);
  });
  return { show, drop };
}

// Choosing one of two options that cannot go together disables the other, and says why:
// a file in the public gallery is handed out without counting, so it takes no download limit.
export function optionConflicts(form) {
  const limit = form.elements.namedItem("max_downloads");
  const gallery = form.elements.namedItem("public");
  if (!limit || !gallery) return;
  const note = (field, id, text) => {
    let line = document.getElementById(id);
    if (!line) {
      line = document.createElement("span");
      line.id = id;
      line.className = "hint option-note";
      field.closest("p").append(line);
    }
    line.textContent = text;
    line.hidden = !text;
    if (text) field.setAttribute("aria-describedby", id);
    else field.removeAttribute("aria-describedby");
  };
  const apply = () => {
    const limited = limit.value.trim() !== "";
    gallery.disabled = limited && !gallery.checked;
    limit.disabled = gallery.checked;
    note(limit, "max-downloads-note", gallery.checked
      ? "Files in the public gallery take no download limit: untick the gallery to set one." : "");
    note(gallery, "public-note", gallery.disabled
      ? "A file with a download limit stays out of the gallery: clear the limit to show it there." : "");
  };
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  apply();
}

// One line per file: how much of it is sent, at what speed, and how long is left. Speed is
// taken over the last few seconds, so a pause or a dropped connection shows at once.
const SPEED_WINDOW_MS = 4000;
const REDRAW_MS = 400;

function duration(seconds) {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function progressLines(uppy, list) {
  const rows = new Map();

  function row(file) {
    let entry = rows.get(file.id);
    if (!entry) {
      const item = document.createElement("li");
      item.dataset.file = file.id;
      list.append(item);
      entry = { item, samples: [], drawn: 0 };
      rows.set(file.id, entry);
    }
    list.hidden = false;
    return entry;
  }

  function draw(file, entry, sent, total, force = false) {
    const now = performance.now();
    entry.samples.push([now, sent]);
    while (entry.samples.length > 2 && now - entry.samples[0][0] > SPEED_WINDOW_MS) entry.samples.shift();
    if (!force && now - entry.drawn < REDRAW_MS) return;
    entry.drawn = now;
    const [firstAt, firstSent] = entry.samples[0];
    const seconds = (now - firstAt) / 1000;
    const speed = seconds > 0.2 ? Math.max(0, (sent - firstSent) / seconds) : 0;
    const percent = total ? Math.floor((sent / total) * 100) : 0;
    const parts = [`${percent} %`, `${humanSize(sent)} of ${humanSize(total)}`];
    if (sent < total) {
      parts.push(speed > 0 ? `${humanSize(speed)}/s` : "waiting");
      if (speed > 0) parts.push(`${duration((total - sent) / speed)} left`);
    }
    entry.item.textContent = `${file.name}: ${parts.join(" · ")}`;
    entry.item.dataset.percent = String(percent);
    entry.item.dataset.speed = String(Math.round(speed));
  }

  uppy.on("upload-progress", (file, progress) => {
    if (!file) return;
    const total = progress.bytesTotal || file.size || 0;
    draw(file, row(file), Math.min(progress.bytesUploaded || 0, total), total);
  });
  uppy.on("upload-success", (file) => {
    if (!file) return;
    const entry = row(file);
    entry.item.textContent = `${file.name}: sent (${humanSize(file.size || 0)})`;
    entry.item.dataset.percent = "100";
  });
  uppy.on("upload-error", (file) => {
    const entry = file && rows.get(file.id);
    if (entry) entry.item.textContent = `${file.name}: stopped at ${entry.item.dataset.percent || 0} %`;
  });
  uppy.on("file-removed", (file) => {
    const entry = file && rows.get(file.id);
    if (entry) entry.item.remove();
    if (file) rows.delete(file.id);
    list.hidden = rows.size === 0;
  });
}

// Paste anywhere on the page adds the pasted files, as pasting into the Dashboard does; text
// pasted into a field stays text.
export function pasteAnywhere(uppy, dashboardRoot) {
  document.addEventListener("paste", (event) => {
    if (dashboardRoot.contains(event.target)) return; // the Dashboard takes its own pastes
    const files = [...(event.clipboardData ? event.clipboardData.files : [])];
    if (files.length === 0) return;
    event.preventDefault();
    for (const file of files) {
      try {
        uppy.addFile({ name: file.name || "pasted file", type: file.type, data: file, source: "paste" });
      } catch {
        // a refused file is reported through "restriction-failed"
      }
    }
  });
}
