// The upload page: Uppy's Dashboard (drag and drop, paste, several files, progress,
// pause, resume, cancel, retry) sending straight to S3. Files up to the threshold go in
// one POST under a policy; larger ones in parts, each part URL signed just in time for
// its exact length and the SHA-256 the browser computed. Golden Retriever keeps the
// files across a reload, and an upload resumes from the parts S3 already holds.
import AwsS3 from "@uppy/aws-s3";
import Uppy from "@uppy/core";
import Dashboard from "@uppy/dashboard";
import GoldenRetriever from "@uppy/golden-retriever";
import "@uppy/core/css/style.min.css";
import "@uppy/dashboard/css/style.min.css";

import { errorLines, humanSize, optionConflicts, pasteAnywhere, progressLines, refusedAtOnce } from "./early.js";
import { sendPoster } from "./poster.js";
import { finishTransfer, openTransfer, withTransfer } from "./transfer-result.js";
import { declaredType, refusal } from "./sniff.js";

const root = document.getElementById("uploader");
const config = JSON.parse(document.getElementById("upload-config").textContent);
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
const form = document.getElementById("upload-options");
const errorBox = document.getElementById("upload-error");
const progressList = document.getElementById("upload-progress");
const results = document.getElementById("upload-results");

// With the script running, the Dashboard takes the place of the plain fields.
document.getElementById("no-script-fields").remove();
document.getElementById("no-script-submit").remove();

// How long the page waits for video posters before going to the result page: the upload
// is done by then, so a slow or stuck capture only costs its poster, never the file.
const POSTER_WAIT_MS = 10_000;

// Waits between attempts when the site is briefly unreachable: about a minute in all,
// and always until the browser says it is back online.
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];


const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// After a failure: the next attempt comes when the connection returns, or after the wait.
// (navigator.onLine can say "offline" where a network exists, so it never stops a first try.)
const pause = (ms) => Promise.race([
  sleep(ms),
  new Promise((resolve) => window.addEventListener("online", resolve, { once: true })),
]);

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// One call to the site's JSON API. Network failures and 5xx answers are retried with
// backoff (and after the connection returns); refusals are not.
async function api(method, path, body, { retry = true, signal } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    let response = null;
    try {
      response = await fetch(path, {
        method,
        credentials: "same-origin",
        signal,
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      if (signal && signal.aborted) throw err;
    }
    if (response && response.status < 500) {
      const data = response.status === 204 ? null : await response.json().catch(() => null);
      if (response.ok) return data;
      const error = data && data.error ? data.error : { code: "error", message: `The site answered ${response.status}.` };
      throw new ApiError(response.status, error.code, error.message);
    }
    // Unreachable: try again until it answers (the person can cancel); a 5xx: a few times.
    if (!retry || (response && attempt >= BACKOFF_MS.length)) {
      throw new ApiError(response ? response.status : 0, "unreachable",
        "The site could not be reached. Check your connection and try again.");
    }
    await pause(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]);
  }
}

function options() {
  const data = new FormData(form);
  return {
    retention_days: data.get("retention_days") || null,
    max_downloads: data.get("max_downloads") || null,
    visibility: data.get("public") ? "public" : "private",
  };
}

// The part size the server plans (webapp/parts.py plan_parts): Uppy cuts the file the same way.
function partSize(size) {
  return Math.min(size, Math.max(config.partBytes, config.minPartBytes, Math.ceil(size / config.maxParts)));
}

async function startUpload(file) {
  const started = await withTransfer(api, form, (transferId) => api("POST", "/api/uploads", {
    filename: file.name,
    content_type: declaredType(file.name, file.type, config),
    size: file.size,
    name: file.meta.title || "",
    caption: file.meta.caption || "",
    ...options(),
    transfer_id: transferId,
  }));
  uppy.setFileMeta(file.id, { uploadId: started.upload_id });
  return started;
}

// A response header the bucket's CORS rules expose, or "" (asking for one it does not
// expose makes the browser log an error).
function exposedHeader(xhr, name) {
  const line = xhr.getAllResponseHeaders().split(/\r?\n/)
    .find((header) => header.toLowerCase().startsWith(name.toLowerCase() + ":"));
  return line ? line.slice(name.length + 1).trim() : "";
}

function storageError(xhr, message) {
  const error = new Error(message);
  error.source = xhr;
  return error;
}

// Sends one part (PUT) or one whole small file (POST) to storage with progress. A dropped
// connection is not an error here: the same request is sent again once the network is back,
// while its signed URL is valid; past that, Uppy is told it expired and signs a fresh one.
// Only the part that was in flight is sent again.
async function uploadPartBytes({ signature, body, size, onProgress, onComplete, signal }) {
  const { url, headers = {}, method = "PUT", expiresAt } = signature;
  for (let attempt = 0; ; attempt += 1) {
    const outcome = await new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const onAbort = () => xhr.abort();
      const cleanup = () => signal && signal.removeEventListener("abort", onAbort);
      if (signal) {
        if (signal.aborted) {
          reject(new DOMException("The upload was cancelled.", "AbortError"));
          return;
        }
        signal.addEventListener("abort", onAbort);
      }
      xhr.open(method, url, true);
      Object.entries(headers).forEach(([name, value]) => xhr.setRequestHeader(name, value));
      xhr.upload.addEventListener("progress", (event) => onProgress && onProgress(event));
      xhr.addEventListener("abort", () => {
        cleanup();
        reject(new DOMException("The upload was cancelled.", "AbortError"));
      });
      xhr.addEventListener("error", () => {
        cleanup();
        onProgress && onProgress({ loaded: 0, lengthComputable: true });
        resolve(null);
      });
      xhr.addEventListener("load", () => {
        cleanup();
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress && onProgress({ loaded: size, lengthComputable: true });
          // The server completes from storage's own list of parts: the ETag is a courtesy.
          const etag = exposedHeader(xhr, "ETag") || `"part-${Date.now()}"`;
          onComplete && onComplete(etag);
          resolve({ ETag: etag, location: exposedHeader(xhr, "Location") || undefined });
          return;
        }
        const found = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText || "");
        reject(storageError(xhr, found ? found[1] : `Storage answered ${xhr.status}.`));
      });
      xhr.send(body);
    });
    if (outcome) return outcome;
    await pause(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]);
    if (expiresAt && Date.now() > expiresAt - 30_000) {
      throw storageError({ status: 403 }, "Request has expired");
    }
  }
}

async function sha256Base64(blob) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer()));
  return btoa(String.fromCharCode(...digest));
}

// Completion is retried with backoff: once the bytes are in storage the uploader must still
// reach the result and the manage link, even if the site was unreachable for a moment.
async function complete(file, uploadId) {
  const done = await api("POST", `/api/uploads/${encodeURIComponent(uploadId)}/complete`, {});
  uppy.setFileMeta(file.id, { media: done.media });
  if (file.data instanceof Blob && !posters.has(file.id)) {
    posters.set(file.id, sendPoster(file.data, done.media, api));
  }
  return done.media;
}

// Video posters being captured and sent, by file id (each promise resolves, never rejects).
const posters = new Map();
const postersSent = () => Promise.race([Promise.all(posters.values()), sleep(POSTER_WAIT_MS)]);

const uppy = new Uppy({
  id: "mediahub",
  autoProceed: false,
  restrictions: {
    maxFileSize: config.maxBytes,
    maxNumberOfFiles: config.maxFiles || null,
    maxTotalFileSize: config.totalBytes || null,
    allowedFileTypes: [...Object.keys(config.types), ...Object.values(config.types).flat().map((e) => "." + e)],
  },
  // The page's own sentence for a refused type or size (restriction-failed below), instead of
  // Uppy's list of every type and extension.
  onBeforeFileAdded: (file) => !refusedAtOnce(file, config),
  meta: options(),
  locale: {
    strings: {
      exceedsSize: `%{file} is over the limit: the largest file you can upload is ${humanSize(config.maxBytes)}.`,
      aggregateExceedsSize: `These files come to more than this link still takes: ${humanSize(config.totalBytes || 0)} in all.`,
      youCanOnlyUploadX: {
        0: "This link takes only %{smart_count} more file.",
        1: "This link takes only %{smart_count} more files.",
      },
    },
  },
});
const errors = errorLines(uppy, errorBox);
const showError = (message, file) => errors.show(message, file ? file.id : null);

uppy.use(Dashboard, {
  target: root,
  inline: true,
  width: "100%",
  height: 420,
  proudlyDisplayPoweredByUppy: false,
  // Light or dark with the rest of the site (prefers-color-scheme).
  theme: "auto",
  // Previews would be blob: images, which the page's Content-Security-Policy does not allow.
  disableThumbnailGenerator: true,
  // Each file's progress, speed and time left are one line under the Dashboard (early.js).
  showProgressDetails: false,
  note: root.dataset.note,
  metaFields: [
    { id: "title", name: "Name", placeholder: "Shown with the file; its file name if empty" },
    { id: "caption", name: "Caption", placeholder: "A line or two about it" },
  ],
});

uppy.use(GoldenRetriever, {
  // Keep files up to the multipart threshold's double in IndexedDB so a reload resumes by itself;
  // larger ones come back as "choose the same file again".
  indexedDB: { maxFileSize: config.restoreBytes, maxTotalSize: config.restoreBytes * 2 },
});

uppy.use(AwsS3, {
  limit: config.partsInFlight,
  retryDelays: [0, 1000, 3000, 5000],
  uploadPartBytes,
  shouldUseMultipart: (file) => file.size > config.threshold,
  getChunkSize: (file) => partSize(file.size),
  async getUploadParameters(file, { signal }) {
    const started = await startUpload(file);
    return { method: "POST", url: started.url, fields: started.fields, expiresAt: Date.parse(started.expires_at) };
  },
  async createMultipartUpload(file) {
    const started = await startUpload(file);
    if (started.method !== "multipart" || started.part_size !== partSize(file.size)) {
      throw new Error("This page is out of date; reload it and try again.");
    }
    return { uploadId: started.upload_id, key: started.key };
  },
  async signPart(file, { uploadId, partNumber, body, signal }) {
    const checksum = await sha256Base64(body);
    const signed = await api("POST", `/api/uploads/${encodeURIComponent(uploadId)}/parts`,
      { parts: [{ number: partNumber, checksum }] }, { signal });
    const [part] = signed.parts;
    return { method: "PUT", url: part.url, headers: part.headers, expiresAt: Date.parse(signed.expires_at) };
  },
  async listParts(file, { uploadId, signal }) {
    const held = await api("GET", `/api/uploads/${encodeURIComponent(uploadId)}/parts`, undefined, { signal });
    return held.parts.map((part) => ({ PartNumber: part.number, Size: part.size, ETag: part.etag }));
  },
  async abortMultipartUpload(file, { uploadId }) {
    await api("DELETE", `/api/uploads/${encodeURIComponent(uploadId)}`, undefined, { retry: false });
  },
  async completeMultipartUpload(file, { uploadId }) {
    const media = await complete(file, uploadId);
    return { location: media.links.page };
  },
});

// A file sent in one POST is recorded after it arrives; multipart files were recorded on completion.
uppy.addPostProcessor(async (fileIDs) => {
  await Promise.all(fileIDs.map(async (id) => {
    const file = uppy.getFile(id);
    if (!file || file.meta.media || !file.meta.uploadId || file.error) return;
    uppy.emit("postprocess-progress", file, { mode: "indeterminate", message: "Checking" });
    try {
      await complete(file, file.meta.uploadId);
    } catch (err) {
      uppy.emit("upload-error", file, err);
    }
    uppy.emit("postprocess-complete", file);
  }));
});

// Read each file's first bytes as it is added: refuse a disguised or unknown file before
// anything is sent, and give an empty or odd browser type the type it will be stored as.
const checks = new Map();
uppy.on("file-added", (file) => {
  if (file.isRemote || !file.data || file.isGhost) return;
  checks.set(file.id, refusal(file.data, config).then((why) => {
    if (why) {
      uppy.removeFile(file.id);
      showError(why); // after the removal, which clears the file's own lines
    } else {
      uppy.setFileMeta(file.id, { type: declaredType(file.name, file.type, config) });
    }
  }).finally(() => checks.delete(file.id)));
});
uppy.addPreProcessor(async () => {
  await Promise.all(checks.values());
});
// The files sent in one go are one transfer: opened before the first byte goes.
uppy.addPreProcessor(async () => {
  try {
    await openTransfer(api, form);
  } catch (err) {
    showError(err.message);
    throw err;
  }
});

uppy.on("restriction-failed", (file, error) => showError((file && refusedAtOnce(file, config)) || error.message));
uppy.on("upload-error", (file, error) => {
  if (file && error && error.message) showError(`${file.name}: ${error.message}`, file);
});
progressLines(uppy, progressList);
optionConflicts(form);
pasteAnywhere(uppy, root);

// Files restored after a reload carry on by themselves (those whose bytes were kept).
uppy.on("restored", () => {
  if (uppy.getFiles().some((file) => !file.isGhost && !file.progress.uploadComplete)) {
    uppy.emit("restore-confirmed");
  }
});

uppy.on("complete", async (result) => {
  const recorded = result.successful.map((file) => uppy.getFile(file.id)).filter((f) => f && f.meta.media);
  if (recorded.length === 0) return;
  // One file and nothing failed: its own page, as before; else the transfer's links here.
  const single = recorded.length === 1 && result.failed.length === 0;
  try {
    await finishTransfer(api, single ? null : results);
  } catch (err) {
    showError(err.message);
  }
  if (single) {
    await postersSent(); // leaving the page would stop a capture still under way
    window.location.assign(recorded[0].meta.media.links.page);
  }
});

form.addEventListener("change", () => uppy.setMeta(options()));
window.mediahubUppy = uppy;
