/**
 * Builds the console into dist/, which the API server serves on its own origin. `npm run dev -w
 * @flightdeck/console` serves it with hot reload and passes /v1 to the API on :7070.
 */
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  server: { proxy: { "/v1": "http://127.0.0.1:7070", "/healthz": "http://127.0.0.1:7070" } },
});
