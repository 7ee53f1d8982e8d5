// Builds app/static/build/ (gitignored) from assets/ and node_modules: `make setup` runs it after `npm ci`.
//
// Every file it writes has its content's hash in its name, so the browser may cache it for good:
//   - our scripts, assets/src/<name>.entry.js, bundled by esbuild -> <name>-<HASH>.js (+ .map);
//   - our stylesheets, assets/css/<name>.css, bundled by esbuild -> <name>-<HASH>.css (+ .map);
//   - vendor files, copied from node_modules as the packages ship them -> vendor/<stem>-<hash>.<ext>.
// build/manifest.json maps each logical name to its file under app/static/, e.g.
//   { "designer.js": "build/designer-5KQ3X2ZB.js", "app.css": "build/app-M4TT7C2D.css",
//     "vendor/echarts.min.js": "build/vendor/echarts.min-1a2b3c4d.js", ... }
// and the templates ask for the logical name: {{ asset_url('designer.js') }} (app/web/assets.py).
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const staticDir = join(root, "app/static");
const out = join(staticDir, "build");
const modules = join(root, "node_modules");

// logical name -> source under node_modules
const VENDOR = {
  "vendor/echarts.min.js": "echarts/dist/echarts.min.js",
  "vendor/diagram-js.css": "bpmn-js/dist/assets/diagram-js.css",
  "vendor/bpmn-js.css": "bpmn-js/dist/assets/bpmn-js.css",
  "vendor/bpmn-embedded.css": "bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css",
  "vendor/properties-panel.css": "@bpmn-io/properties-panel/dist/assets/properties-panel.css",
};

const manifest = {};
const urlPath = (file) => relative(staticDir, file).split("\\").join("/");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "vendor"), { recursive: true });

// Vendor files: copied whole (their CSS refers to no other file), named by a hash of their bytes.
for (const [name, from] of Object.entries(VENDOR)) {
  const bytes = readFileSync(join(modules, from));
  const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 8);
  const ext = extname(name);
  const file = join(out, dirname(name), `${basename(name, ext)}-${hash}${ext}`);
  copyFileSync(join(modules, from), file);
  manifest[name] = urlPath(file);
}

// Our scripts and stylesheets: one esbuild run; the metafile says which output came from which entry.
const entries = [];
const src = join(root, "assets/src");
for (const f of readdirSync(src).filter((f) => f.endsWith(".entry.js")).sort()) {
  entries.push({ in: join(src, f), out: basename(f, ".entry.js"), name: `${basename(f, ".entry.js")}.js` });
}
const css = join(root, "assets/css");
for (const f of readdirSync(css).filter((f) => f.endsWith(".css")).sort()) {
  entries.push({ in: join(css, f), out: basename(f, ".css"), name: f });
}
const result = await build({
  entryPoints: entries.map(({ in: input, out: output }) => ({ in: input, out: output })),
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "iife",
  target: ["es2020"],
  absWorkingDir: root, // paths in the metafile (and so the hashes) do not depend on where node runs
  outdir: out,
  entryNames: "[name]-[hash]",
  loader: { ".svg": "text" },
  metafile: true,
  logLevel: "warning",
});
const byEntry = new Map(entries.map((e) => [relative(root, e.in).split("\\").join("/"), e.name]));
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  const name = output.entryPoint && byEntry.get(output.entryPoint);
  if (name) {
    manifest[name] = urlPath(join(root, file));
  }
}
const missing = entries.filter((e) => !manifest[e.name]).map((e) => e.name);
if (missing.length) {
  throw new Error(`assets: esbuild wrote nothing for ${missing.join(", ")}`);
}

const sorted = Object.fromEntries(Object.entries(manifest).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(join(out, "manifest.json"), JSON.stringify(sorted, null, 2) + "\n");
console.log(`assets: ${Object.keys(VENDOR).length} vendor files, ${entries.length} bundles -> app/static/build/ (manifest.json)`);
