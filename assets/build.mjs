// Builds app/static/build/ (gitignored) from node_modules: `make setup` runs it after `npm ci`.
// Vendor files are copied as the packages ship them; our own modules under assets/src/
// (*.entry.js) are bundled with esbuild, since bpmn-js-properties-panel ships ES modules only.
import { build } from "esbuild";
import { cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "app/static/build");
const modules = join(root, "node_modules");

// [source under node_modules, destination under app/static/build]
const VENDOR = [
  ["echarts/dist/echarts.min.js", "vendor/echarts.min.js"],
  ["bpmn-js/dist/bpmn-navigated-viewer.production.min.js", "vendor/bpmn-navigated-viewer.min.js"],
  ["bpmn-js/dist/assets", "vendor/bpmn-js"],
  ["@bpmn-io/properties-panel/dist/assets", "vendor/properties-panel"],
];

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "vendor"), { recursive: true });
for (const [from, to] of VENDOR) {
  cpSync(join(modules, from), join(out, to), { recursive: true });
}

const src = join(root, "assets/src");
const entries = readdirSync(src).filter((f) => f.endsWith(".entry.js")).map((f) => join(src, f));
if (entries.length) {
  await build({
    entryPoints: entries,
    bundle: true,
    minify: true,
    sourcemap: true,
    format: "iife",
    target: ["es2020"],
    outdir: out,
    entryNames: "[name]",
    loader: { ".svg": "text" },
    logLevel: "warning",
  });
}
console.log(`assets: ${VENDOR.length} vendor paths, ${entries.length} bundles -> app/static/build/`);
