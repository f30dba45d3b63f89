// A poster frame for an uploaded video, made here because the server has no video decoder:
// the local file plays muted in a <video> that is never shown, one frame near the start is
// drawn to a canvas (at most MAX_SIDE on the long side) and sent as a JPEG under a POST
// policy of its own; the server checks and re-encodes it before anyone sees it. Whatever goes
// wrong (a format this browser cannot decode, a refusal, the network) the video keeps its
// generic icon: nothing here ever fails or holds up the upload itself.

const MAX_SIDE = 1280;
const QUALITY = 0.85;
const SEEK_SECONDS = 1;
const DECODE_TIMEOUT_MS = 8000;

// Resolves with the first of `events` on `target`, rejects on `error` or after the timeout.
function next(target, events, timeoutMs = DECODE_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const done = (fn) => (value) => {
      clearTimeout(timer);
      events.forEach((name) => target.removeEventListener(name, onEvent));
      target.removeEventListener("error", onError);
      fn(value);
    };
    const onEvent = done(resolve);
    const onError = done(() => reject(new Error("The video could not be decoded.")));
    const timer = setTimeout(done(() => reject(new Error("The video took too long to decode."))), timeoutMs);
    events.forEach((name) => target.addEventListener(name, onEvent));
    target.addEventListener("error", onError);
  });
}

// One frame of a local video file as a JPEG blob, or null when this browser cannot show it.
export async function captureFrame(file) {
  const url = URL.createObjectURL(file);
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.preload = "metadata";
  video.hidden = true;
  try {
    const loaded = next(video, ["loadedmetadata"]);
    video.src = url;
    await loaded;
    const duration = Number.isNaN(video.duration) ? 0 : video.duration;
    const seeked = next(video, ["seeked"]);
    video.currentTime = Math.min(SEEK_SECONDS, duration / 2);
    await seeked;
    if (video.readyState < 2) await next(video, ["loadeddata", "canplay"]);
    const { videoWidth: width, videoHeight: height } = video;
    if (!width || !height) return null;
    const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
  } catch {
    return null;
  } finally {
    video.removeAttribute("src");
    video.load();
    URL.revokeObjectURL(url);
  }
}

// Capture, ask for the policy, post the frame, confirm. Never throws; resolves when done.
// `api(method, path, body, options)` is the page's JSON API call (CSRF header, errors).
export async function sendPoster(file, media, api) {
  try {
    if (!media || !String(media.content_type).startsWith("video/") || media.links.poster) return;
    const frame = await captureFrame(file);
    if (!frame || !frame.size) return;
    const base = `/api/media/${encodeURIComponent(media.id)}/poster`;
    const policy = await api("POST", base, { size: frame.size }, { retry: false });
    const form = new FormData();
    Object.entries(policy.fields).forEach(([name, value]) => form.append(name, value));
    form.append("file", frame, "poster.jpg");
    const sent = await fetch(policy.url, { method: "POST", body: form, credentials: "omit" });
    if (!sent.ok) return;
    await api("POST", `${base}/complete`, {}, { retry: false });
  } catch {
    // The poster is a nicety: the video stays uploaded, with the generic icon.
  }
}
