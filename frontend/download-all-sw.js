// The service worker behind "Download all" where the browser cannot write to a file the person
// picks (no File System Access API): it answers /s/<token>/all.zip itself with a zip it streams
// from the files' signed URLs, so the browser saves it as any download while it is being made.
import { listing, zipResponse } from "./transfer-zip.js";

const ZIP_PATH = /^\/s\/([A-Za-z0-9_-]{22})\/all\.zip$/;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const match = url.origin === self.location.origin && event.request.method === "GET" && ZIP_PATH.exec(url.pathname);
  if (!match) return; // everything else goes to the network as usual
  event.respondWith((async () => {
    const token = match[1];
    try {
      const listed = await listing(token);
      const zip = zipResponse(token, listed);
      const headers = new Headers(zip.headers);
      headers.set("Content-Type", "application/zip");
      headers.set("Content-Disposition", `attachment; filename="${listed.name}.zip"`);
      return new Response(zip.body, { status: 200, headers });
    } catch (error) {
      return fetch(event.request); // the site's own answer says what to do instead
    }
  })());
});
