// `npm start`: the server from one esbuild bundle, rebuilt only when an input changed.
//
// Why a bundle rather than tsx (what `npm start` ran before) or tsc's dist/:
// - Loading ~1,800 module files (kysely, typebox and fastify are hundreds
//   each) cost about 0.85 s of every start; one file loads in about 0.25 s.
// - tsx compiles in-process on a loader thread that stays alive: about
//   65 MB more resident memory for as long as the server runs.
// Measured in bench/ (start-to-ready on PGlite, idle RSS); see bench/README.md.
//
// The bundle holds our code and the dependencies that are plain JavaScript.
// Left outside, loaded from node_modules as usual: native code (argon2), code
// that finds its own files next to itself (PGlite's WebAssembly), and what the
// server imports lazily (the docs UI, the password-strength dictionaries,
// file-type), which a bundle would load on every start.
//
// It is written to node_modules/.cache/bima/server/, from where node_modules
// resolves those packages, with a list of every input esbuild read (mtime and
// size): a later start that finds them all unchanged, and the same installed
// packages (node_modules/.package-lock.json), skips the build (about 0.5 s).
// A start that must build runs the build in a child process (see the end).
// The server is written in TypeScript; type checking is `npm run typecheck`.
// Stack traces name the bundle's lines (function names intact, each file
// headed by a comment with its path); a source map is written beside it, and
// NODE_OPTIONS=--enable-source-maps npm start maps them back to src/ (it
// costs about 0.25 s of start, for the dependencies' maps).
//
// `node scripts/start.mjs --build-only` builds and stops; `--rebuild` builds
// even when nothing changed. `--prepare` (npm's postinstall) builds, then
// starts the bundle once on an in-memory PGlite, which keeps the migrated
// cluster as the template every new data directory starts from
// (src/db/pglite-template.ts): PGlite's initdb and the migrations (3-4 s)
// happen at install, not at the first `npm start`. It does nothing where
// there is no src/ (the Dockerfile's dependency stages), and a failure only
// warns: the first start then makes the template itself.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'node_modules', '.cache', 'bima', 'server');
const outfile = join(outDir, 'server.mjs');
const inputsFile = join(outDir, 'inputs.json');

const BUNDLE_EXTERNAL = ['@node-rs/argon2', '@electric-sql/pglite', '@scalar/fastify-api-reference', '@zxcvbn-ts/*', 'file-type'];

/** Another start (a second terminal, a cluster worker) may build at the same time: write aside, then rename. */
function writeAtomically(path, contents) {
  const aside = `${path}.${process.pid}.tmp`;
  writeFileSync(aside, contents);
  renameSync(aside, path);
}

/** mtime and size of a file, or null when it is gone. */
function fingerprint(path) {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return null;
  }
}

function isFresh() {
  let recorded;
  try {
    recorded = JSON.parse(readFileSync(inputsFile, 'utf8'));
  } catch {
    return false;
  }
  if (fingerprint(outfile) === null) return false;
  return Object.entries(recorded).every(([path, print]) => fingerprint(join(root, path)) === print);
}

/** Builds the bundle when an input changed (or `force`); returns its path and whether it was built. */
export async function ensureBundle({ force = false } = {}) {
  if (!force && isFresh()) return { path: outfile, built: false };
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['src/server.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: BUNDLE_EXTERNAL,
    // CommonJS dependencies inside an ES module bundle still call require() for Node's built-ins.
    banner: { js: "import { createRequire as __bimaCreateRequire } from 'node:module'; const require = __bimaCreateRequire(import.meta.url);" },
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    write: false,
    logLevel: 'warning',
  });
  mkdirSync(outDir, { recursive: true });
  for (const file of result.outputFiles) writeAtomically(file.path, file.contents);
  const inputs = Object.fromEntries([...Object.keys(result.metafile.inputs), 'node_modules/.package-lock.json', 'scripts/start.mjs']
    .map((path) => [path, fingerprint(join(root, path))]));
  writeAtomically(inputsFile, JSON.stringify(inputs));
  return { path: outfile, built: true };
}

/** Starts the bundle on an in-memory PGlite until it is ready (so the PGlite template exists), then stops it. */
export async function prepareTemplate(bundlePath, timeoutMs = 120_000) {
  const dataDir = mkdtempSync(join(tmpdir(), 'bima-prepare-'));
  const child = spawn(process.execPath, [bundlePath], {
    cwd: root,
    env: {
      ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'info', DATABASE_URL: 'pglite://memory', DATA_DIR: dataDir, REDIS_URL: '',
      HOST: '127.0.0.1', PORT: '0', SEED_DEMO_DATA: 'false', WEB_CONCURRENCY: '1', BOOTSTRAP_ADMIN_PHONE: '', BOOTSTRAP_ADMIN_PASSWORD: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  try {
    await new Promise((resolveReady, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
      const collect = (chunk) => {
        output = (output + chunk).slice(-4000);
        if (/"msg":"ready"/.test(output)) {
          clearTimeout(timer);
          resolveReady();
        }
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} before it was ready: ${output.trim().split('\n').slice(-3).join(' | ')}`));
      });
    });
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--prepare')) {
    if (existsSync(join(root, 'src', 'server.ts'))) {
      try {
        await prepareTemplate((await ensureBundle()).path);
      } catch (error) {
        process.stderr.write(`bima: the embedded database template was not prepared (${error instanceof Error ? error.message : String(error)}); the first npm start makes it.\n`);
      }
    }
  } else if (process.argv.includes('--build-only')) {
    await ensureBundle({ force: process.argv.includes('--rebuild') });
  } else {
    // A stale bundle is built by a child process, not by the server's: esbuild's
    // output and metafile (about 25 MB of heap) would otherwise stay resident in
    // the server until V8's memory reducer runs, 8 s or more into idleness
    // (measured: 159 MB 3 s after a start that built, 133 MB after one that did not).
    if (process.argv.includes('--rebuild') || !isFresh()) {
      try {
        execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--build-only', ...process.argv.slice(2)], { stdio: 'inherit' });
      } catch {
        process.exit(1); // esbuild has said why on stderr
      }
    }
    await import(pathToFileURL(outfile).href);
  }
}
