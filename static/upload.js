// Upload straight to S3: ask the site for a POST policy, send the file with
// progress, then ask the site to check and record what arrived.
(function () {
  "use strict";

  const form = document.getElementById("upload-form");
  if (!form) return;
  const statusBox = document.getElementById("upload-status");
  const progress = document.getElementById("upload-progress");
  const progressText = document.getElementById("upload-progress-text");
  const errorBox = document.getElementById("upload-error");
  const button = form.querySelector("[type=submit]");
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

  function humanSize(bytes) {
    if (bytes < 1000) return bytes + " bytes";
    const units = ["kB", "MB", "GB", "TB"];
    let value = bytes;
    let unit = "";
    for (unit of units) {
      value /= 1000;
      if (value < 1000) break;
    }
    return value.toFixed(1).replace(/\.0$/, "") + " " + unit;
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    button.disabled = false;
  }

  function showProgress(sent, total) {
    const percent = total ? Math.floor((sent / total) * 100) : 0;
    progress.value = percent;
    progressText.textContent = percent + " % (" + humanSize(sent) + " of " + humanSize(total) + ")";
  }

  async function postJson(url, body) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
        body: JSON.stringify(body || {}),
      });
    } catch (err) {
      throw new Error("The site could not be reached. Check your connection and try again.");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (!response.ok) {
      const message = data && data.error ? data.error.message : "The site answered with an error (" + response.status + ").";
      throw new Error(message);
    }
    return data;
  }

  function storageMessage(xhr) {
    const match = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText || "");
    const detail = match ? match[1] : "status " + xhr.status;
    return "Storage refused the file (" + detail + "). Nothing was saved.";
  }

  function sendToStorage(policy, file) {
    return new Promise(function (resolve, reject) {
      const data = new FormData();
      Object.entries(policy.fields).forEach(function ([name, value]) { data.append(name, value); });
      data.append("file", file);  // S3 ignores every field after the file
      const xhr = new XMLHttpRequest();
      xhr.open("POST", policy.url);
      xhr.upload.addEventListener("progress", function (event) {
        showProgress(event.loaded, event.lengthComputable ? event.total : file.size);
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          showProgress(file.size, file.size);
          resolve();
        } else {
          reject(new Error(storageMessage(xhr)));
        }
      });
      xhr.addEventListener("error", function () {
        reject(new Error("The connection to storage failed. Nothing was saved; try again."));
      });
      xhr.send(data);
    });
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    errorBox.hidden = true;
    const file = form.elements.file.files[0];
    if (!file) {
      showError("Choose a file to upload.");
      return;
    }
    button.disabled = true;
    try {
      const policy = await postJson("/api/uploads", {
        filename: file.name,
        content_type: file.type,
        size: file.size,
        name: form.elements.name.value,
        caption: form.elements.caption.value,
        retention_days: form.elements.retention_days.value || null,
        max_downloads: form.elements.max_downloads.value || null,
        visibility: form.elements.public.checked ? "public" : "private",
      });
      statusBox.hidden = false;
      showProgress(0, file.size);
      await sendToStorage(policy, file);
      const done = await postJson("/api/uploads/" + encodeURIComponent(policy.upload_id) + "/complete");
      window.location.assign(done.media.links.page);
    } catch (err) {
      showError(err.message);
    }
  });
})();
