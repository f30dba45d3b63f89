// Bundles the upload page (Uppy and our code) into static/dist/ with content-hashed
// names, and writes static/dist/manifest.json, which the page template reads to name them.
// Hashed names let the site serve them with a year-long, immutable cache lifetime.
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.join(root, "static", "dist");

await rm(outdir, { recursive: true, force: true });
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: {
    upload: "frontend/upload.js",
    transfer: "frontend/transfer.js",
    "download-all-sw": "frontend/download-all-sw.js",
  },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome100", "firefox100", "safari15"],
  entryNames: "[name]-[hash]",
  outdir,
  metafile: true,
  legalComments: "eof",
  logLevel: "warning",
});

const manifest = {};
for (const [output, info] of Object.entries(result.metafile.outputs)) {
  if (info.entryPoint) {
    manifest[path.basename(info.entryPoint)] = path.basename(output);
    if (info.cssBundle) manifest[path.basename(info.entryPoint, ".js") + ".css"] = path.basename(info.cssBundle);
  }
}
await writeFile(path.join(outdir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`static/dist: ${Object.values(manifest).join(", ")}`);
