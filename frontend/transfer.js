// A transfer's share page: "Download all" (a zip made in the browser, streamed by a service
// worker as an ordinary download; where there are no service workers, written straight to a
// file the person picks through the File System Access API) and the phone's share sheet (Web
// Share API) where there is one.
//
// The service worker comes first even where both exist: measured in Chromium (bench/transfers.py),
// a zip piped into a FileSystemWritableFileStream grew the browser process by about the zip's
// size, while the worker's stream to the download manager stayed flat.
import { listing, zipResponse } from "./transfer-zip.js";

const button = document.getElementById("download-all");
const status = document.getElementById("download-all-status");
const shareButton = document.getElementById("web-share");

function say(text) {
  if (status) status.textContent = text;
}

async function saveWithPicker(token) {
  const listed = await listing(token);
  const handle = await window.showSaveFilePicker({
    suggestedName: `${listed.name}.zip`,
    types: [{ description: "Zip archive", accept: { "application/zip": [".zip"] } }],
  });
  const writable = await handle.createWritable();
  let done = 0;
  const zip = zipResponse(token, listed, () => {
    done += 1;
    say(`Saving file ${done} of ${listed.files.length}…`);
  });
  await zip.body.pipeTo(writable);
  say(`Saved ${listed.files.length} files in ${handle.name}.`);
}

async function saveThroughWorker(token) {
  const registration = await navigator.serviceWorker.register("/s/download-all.js", { scope: "/s/" });
  await navigator.serviceWorker.ready;
  if (!registration.active) throw new Error("The download helper did not start; reload the page.");
  // A navigation the worker answers with the zip: the browser saves it as a download.
  const link = document.createElement("a");
  link.href = `/s/${encodeURIComponent(token)}/all.zip`;
  link.rel = "nofollow";
  document.body.append(link);
  link.click();
  link.remove();
  say("The zip is downloading: your browser shows its progress.");
}

const workers = Boolean(navigator.serviceWorker);
if (button && (workers || window.showSaveFilePicker)) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    button.disabled = true;
    say("Preparing…");
    try {
      if (workers) await saveThroughWorker(button.dataset.token);
      else await saveWithPicker(button.dataset.token);
    } catch (error) {
      if (error && error.name === "AbortError") say("");
      else say(`Download all failed: ${error.message}. Save each file instead.`);
    } finally {
      button.disabled = false;
    }
  });
}

if (shareButton && navigator.share) {
  shareButton.hidden = false;
  shareButton.addEventListener("click", () => {
    navigator.share({ title: shareButton.dataset.title, url: shareButton.dataset.url }).catch(() => {});
  });
}
