/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The dev server forwards the API to a running feather (`feather serve` or `feather demo`),
// so the portal is developed against the real thing rather than mocks.
const target = process.env.FEATHER_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [preact()],
  server: { proxy: { "/api": { target, changeOrigin: true } } },
  // `vite preview` serves the production build the same way, for end-to-end checks of dist/.
  preview: { proxy: { "/api": { target, changeOrigin: true } } },
  build: {
    outDir: "dist",
    // The server embeds these files; hashed names let it cache them forever.
    assetsDir: "assets",
    sourcemap: false,
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
  },
});
