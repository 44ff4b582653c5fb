import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

// Built into the Python package so `onsite24 serve` serves it at /board (no CDN at run time).
export default defineConfig({
  base: "/board/",
  build: {
    outDir: fileURLToPath(new URL("../dispatch/board/static", import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8024" } },
});
