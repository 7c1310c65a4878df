import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The bundle is embedded in ivre-httpd (crates/ivre-web/src/ui.rs): fixed
// file names (the server gives them an ETag), one script, one style sheet,
// nothing fetched from elsewhere (the page works air-gapped).
export default defineConfig({
  plugins: [preact()],
  base: "/",
  build: {
    outDir: "../crates/ivre-web/assets",
    emptyOutDir: true,
    assetsInlineLimit: 100000000,
    modulePreload: false,
    cssCodeSplit: false,
    rollupOptions: {
      output: {
        entryFileNames: "app.js",
        assetFileNames: "app[extname]",
        inlineDynamicImports: true,
      },
    },
  },
  server: { proxy: { "/cgi": "http://127.0.0.1:8080" } },
});
