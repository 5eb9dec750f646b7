// The browser-test harness: a tiny static server for dist-web/ on a localhost port, Debian's
// Chromium driven by playwright-core, and a page wrapper that records console errors, uncaught
// exceptions and any request that tries to leave localhost (the site must work offline).
// Mocha's root hooks (below) start both once and always close them.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Where the built site is served from (npm run web:build writes it). */
export const SITE_DIR = resolve('dist-web');
/** Where screenshots go. */
export const SHOT_DIR = resolve('out/web');

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps calling home on a closed network.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.bin': 'application/octet-stream',
  '.wasm': 'application/wasm',
};

let server: Server | undefined;
let context: BrowserContext | undefined;
let profileDir: string | undefined;
let baseUrl = '';

/** Serve a folder on 127.0.0.1 (a free port); resolves to the base URL. */
export function serveStatic(root: string): Promise<{ server: Server; url: string }> {
  const srv = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    let file = normalize(join(root, path));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((ok, fail) => {
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      ok({ server: srv, url: `http://127.0.0.1:${port}/` });
    });
  });
}

/** A page of the site plus what it logged: console errors, exceptions, off-site requests. */
export interface SitePage {
  page: Page;
  errors: string[];
  offsite: string[];
}

/** Open one page of the site (e.g. 'perceptron.html') and wait until it has loaded. */
export async function openPage(path: string): Promise<SitePage> {
  if (!context) throw new Error('harness: the browser is not running (root hooks not loaded?)');
  const page = await context.newPage();
  const errors: string[] = [];
  const offsite: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`exception: ${err.message}`));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(baseUrl) || url.startsWith('data:') || url.startsWith('blob:')) {
      return route.continue();
    }
    offsite.push(url);
    return route.abort();
  });
  await page.goto(baseUrl + path, { waitUntil: 'load', timeout: 30_000 });
  return { page, errors, offsite };
}

/** Save a full-page screenshot as out/web/<name>.png and return its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOT_DIR, { recursive: true });
  const path = join(SHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Mocha root hooks: one server and one browser for the whole run, always torn down. */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    if (!statSync(join(SITE_DIR, 'index.html'), { throwIfNoEntry: false })) {
      throw new Error(`harness: ${SITE_DIR} has no index.html; run npm run web:build first`);
    }
    const served = await serveStatic(SITE_DIR);
    server = served.server;
    baseUrl = served.url;
    profileDir = mkdtempSync(join(tmpdir(), 'nnzero-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1100, height: 800 },
      timeout: 30_000,
    });
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(30_000);
    await context?.close();
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  },
};
