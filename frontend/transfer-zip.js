// "Download all": a transfer's files as one zip, made in the browser while it downloads.
// client-zip writes each file's bytes as they arrive from its signed URL (never the whole
// transfer in memory, never through the site's server); each file's link is asked for, and
// counted as one download, only when the zip reaches it, so no link goes stale on a long run.
import { downloadZip } from "client-zip";

// Names in a zip must be unique: "a.jpg", "a (2).jpg"...
export function uniqueNames(files) {
  const seen = new Map();
  return files.map((file) => {
    const dot = file.filename.lastIndexOf(".");
    const stem = dot > 0 ? file.filename.slice(0, dot) : file.filename;
    const extension = dot > 0 ? file.filename.slice(dot) : "";
    let name = file.filename;
    for (let n = 2; seen.has(name.toLowerCase()); n += 1) name = `${stem} (${n})${extension}`;
    seen.set(name.toLowerCase(), true);
    return { ...file, zipName: name };
  });
}

async function json(url) {
  const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new Error((body && body.error && body.error.message) || `The site answered ${response.status}.`);
  }
  return response.json();
}

// The transfer's files (names and sizes), from /s/<token>/files.json.
export async function listing(token) {
  const data = await json(`/s/${encodeURIComponent(token)}/files.json`);
  return { name: data.name, files: uniqueNames(data.files) };
}

async function* entries(token, files, onFile) {
  for (const file of files) {
    const link = await json(`/s/${encodeURIComponent(token)}/files/${encodeURIComponent(file.id)}/link`);
    const response = await fetch(link.url, { mode: "cors", credentials: "omit" });
    if (!response.ok) throw new Error(`${file.filename}: storage answered ${response.status}.`);
    if (onFile) onFile(file);
    yield { input: response, name: file.zipName, size: file.size,
            lastModified: file.modified ? new Date(file.modified) : new Date() };
  }
}

// The zip as a Response with its exact Content-Length (predicted from the names and sizes).
export function zipResponse(token, listed, onFile) {
  return downloadZip(entries(token, listed.files, onFile), {
    metadata: listed.files.map((file) => ({ name: file.zipName, size: file.size })),
  });
}
