import { defineConfig } from "vite";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// Built into the Python package so the API process serves it at /app (no CDN at run time).
const OUT = fileURLToPath(new URL("../technician_api/webapp/static", import.meta.url));

// The service worker is a plain file (src/sw.js) emitted as /app/sw.js with the list of every built file
// (the app shell) and a version made of their hashes: a new build installs a new worker that precaches the
// new shell and drops the old cache, and nothing of the shell is ever fetched from the network twice.
function serviceWorker() {
  return {
    name: "onsite24-service-worker",
    apply: "build",
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle).filter((f) => !f.endsWith(".map"));
      const shell = ["./", ...files.filter((f) => f !== "index.html"), "manifest.webmanifest", "icon-192.png", "icon-512.png", "icon.svg"];
      const hash = createHash("sha256");
      for (const f of files.sort()) {
        const item = bundle[f];
        hash.update(f);
        hash.update(item.type === "chunk" ? item.code : item.source);
      }
      const source = readFileSync(fileURLToPath(new URL("./src/sw.js", import.meta.url)), "utf8")
        .replace("__VERSION__", hash.digest("hex").slice(0, 16))
        .replace("__SHELL__", JSON.stringify(shell));
      this.emitFile({ type: "asset", fileName: "sw.js", source });
    },
  };
}

export default defineConfig({
  base: "/app/",
  plugins: [serviceWorker()],
  build: {
    outDir: OUT,
    emptyOutDir: true,
    sourcemap: false,
    target: "es2020",
    modulePreload: { polyfill: false },
  },
  server: { proxy: { "/api": "http://127.0.0.1:8024" } },
});
