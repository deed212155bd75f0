// @ts-check
/**
 * Compiles the `idmerge` program (cli/src and the workspace packages it imports) into plain ESM
 * JavaScript under cli/dist, so it runs on bare Node: no TypeScript loader thread, so less memory
 * and a shorter start-up per run (docs/benchmarks.md). Third-party packages are not bundled (zod aside, see
 * BUNDLED_PACKAGES): each import is rewritten to the installed package's file, relative to cli/dist,
 * and Node loads it as usual.
 * Commands keep loading their heavy modules on demand (code splitting).
 *
 *   node scripts/build-cli.mjs      (also run by `pnpm install` and, when sources changed, by cli/bin/idmerge.mjs)
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(REPO_ROOT, 'cli', 'dist');
/** Written last by a build: names its entry file; its modification time is when the build started. */
const CURRENT = 'current.json';
/** Folders whose files make the program. */
const SOURCE_DIRS = [
  'cli/src',
  'shared/src',
  'connectors/segment-destination/src',
  'connectors/warehouse-sync/src',
];
const SOURCE_FILES = ['cli/package.json', 'shared/package.json', 'pnpm-lock.yaml', 'scripts/build-cli.mjs'];

/** The newest modification time (ms) among the program's sources, tests excluded. */
export function newestSourceTime(root = REPO_ROOT) {
  let newest = 0;
  const visit = (/** @type {string} */ dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (/\.(ts|js|mjs|cjs|json)$/.test(entry.name) && !/\.test\.ts$/.test(entry.name))
        newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of SOURCE_DIRS) visit(join(root, dir));
  for (const file of SOURCE_FILES) newest = Math.max(newest, statSync(join(root, file)).mtimeMs);
  return newest;
}

/** True when `outdir` holds a complete build at least as new as every source. */
export function isBuildCurrent(outdir = DIST, root = REPO_ROOT) {
  try {
    return (
      currentEntry(outdir) !== undefined && statSync(join(outdir, CURRENT)).mtimeMs >= newestSourceTime(root)
    );
  } catch {
    return false;
  }
}

/**
 * Packages compiled into the build rather than loaded from node_modules. zod: loaded as a package, its
 * entry also loads the error messages of every language it has; compiled in, only what the program
 * uses (its English messages) is kept, and every process and worker thread that validates holds
 * less memory (docs/benchmarks.md).
 */
const BUNDLED_PACKAGES = new Set(['zod']);

/** @param {string} path an import specifier: its package name */
const packageName = (path) =>
  path
    .split('/')
    .slice(0, path.startsWith('@') ? 2 : 1)
    .join('/');

/** @type {import('esbuild').Plugin} */
const thirdPartyStaysInstalled = {
  name: 'third-party-stays-installed',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('@idmerge/') || args.path.startsWith('node:')) return undefined;
      if (BUNDLED_PACKAGES.has(packageName(args.path))) return undefined;
      if (args.pluginData === thirdPartyStaysInstalled) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: thirdPartyStaysInstalled,
      });
      if (resolved.errors.length > 0 || resolved.external) return undefined;
      const outdir = /** @type {string} */ (build.initialOptions.outdir);
      const path = relative(outdir, resolved.path).split(sep).join('/');
      return { path: path.startsWith('.') ? path : `./${path}`, external: true };
    });
  },
};

/**
 * zod's locale index imports every language's messages; the program shows English ones only (the
 * language zod itself defaults to), so the index compiled in names English alone.
 * @type {import('esbuild').Plugin}
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";\n',
      loader: 'js',
    }));
  },
};

/**
 * A module that finds files relative to itself (`createRequire(import.meta.url)`) keeps finding
 * them from its source location once bundled into `outdir`.
 * @param {string} outdir the final output folder (the staging folder beside it has the same depth)
 * @returns {import('esbuild').Plugin}
 */
function moduleUrlsStayAtSource(outdir) {
  return {
    name: 'module-urls-stay-at-source',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const { readFile } = await import('node:fs/promises');
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        const fromOutput = relative(outdir, args.path).split(sep).join('/');
        return {
          contents: source.replaceAll(
            'import.meta.url',
            `new URL(${JSON.stringify(fromOutput)}, import.meta.url).href`,
          ),
          loader: 'ts',
        };
      });
    },
  };
}

/**
 * Builds into `outdir` and returns the entry file's path. Every file name carries a hash of its
 * content and is written once, atomically (temporary file, then rename), and `current.json` names
 * the entry last: a program started meanwhile loads either the old build or the new one, never half
 * of one, and a long-running program (`idmerge schedule`) still finds the old build's chunks it
 * loads later. Files no build has named for a week are removed.
 */
export async function buildCli(outdir = DIST) {
  const { build } = await import('esbuild');
  const startedAt = Date.now();
  const result = await build({
    entryPoints: { main: join(REPO_ROOT, 'cli', 'src', 'main.ts') },
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir,
    write: false,
    sourcemap: true,
    // No comments: one non-Latin-1 character in a comment (a dash) made V8 keep a whole module's text
    // at two bytes a character, and every thread holds the program's modules as text.
    minifyWhitespace: true,
    logLevel: 'warning',
    plugins: [thirdPartyStaysInstalled, zodEnglishOnly, moduleUrlsStayAtSource(outdir)],
  });
  mkdirSync(outdir, { recursive: true });
  let entry = '';
  for (const file of result.outputFiles) {
    const name = relative(outdir, file.path);
    if (/^main-[^.]+\.js$/.test(name)) entry = name;
    writeOnce(file.path, file.contents);
  }
  if (entry === '') throw new Error('the build produced no main-<hash>.js');
  // Built-from time, not finish time: a source saved during the build makes the next run rebuild.
  const pointer = join(outdir, CURRENT);
  writeAtomically(pointer, `${JSON.stringify({ entry, builtFrom: new Date(startedAt).toISOString() })}\n`);
  utimesSync(pointer, startedAt / 1000, startedAt / 1000);
  prune(outdir, new Set([CURRENT, ...result.outputFiles.map((file) => relative(outdir, file.path))]));
  return join(outdir, entry);
}

/** The entry file of the current build in `outdir`, or undefined when there is none. */
export function currentEntry(outdir = DIST) {
  try {
    const { entry } = JSON.parse(readFileSync(join(outdir, CURRENT), 'utf8'));
    return typeof entry === 'string' && existsSync(join(outdir, entry)) ? join(outdir, entry) : undefined;
  } catch {
    return undefined;
  }
}

/** @param {string} path @param {Uint8Array | string} contents */
function writeAtomically(path, contents) {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

/** Content-hashed files are the same whoever writes them: an existing one is left alone. */
function writeOnce(/** @type {string} */ path, /** @type {Uint8Array} */ contents) {
  if (!existsSync(path)) writeAtomically(path, contents);
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

function prune(/** @type {string} */ outdir, /** @type {Set<string>} */ keep) {
  for (const name of readdirSync(outdir)) {
    const path = join(outdir, name);
    if (!keep.has(name) && Date.now() - statSync(path).mtimeMs > WEEK_MS) rmSync(path, { force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = Date.now();
  const entry = await buildCli(process.argv[2] ?? DIST);
  console.log(`built ${relative(REPO_ROOT, entry)} in ${Date.now() - started} ms`);
}
