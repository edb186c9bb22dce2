/**
 * The conformance suite in a real browser: the case list, this backend and the JS reference
 * are bundled into one ES module (esbuild), served from 127.0.0.1 and run in headless Chromium
 * (Debian's package) on SwiftShader WebGPU, driven by playwright-core. Skips with the reason
 * when no Chromium is installed (`apt-get install -y chromium`).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleRunner } from './browser/bundle.js';
import type { RunReport } from './browser/runner.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);

/** Chromium's flags for headless WebGPU on SwiftShader (no GPU needed). */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

if (!available) {
  console.warn(
    `[backend-webgpu] skipping the browser conformance run: ${CHROMIUM} not found (apt-get install -y chromium, or set CHROMIUM_PATH)`,
  );
}

describe.skipIf(!available)('conformance: webgpu (headless Chromium, SwiftShader)', () => {
  let server: Server;
  let url: string;
  let profile: string;

  beforeAll(async () => {
    const script = await bundleRunner();
    const page = '<!doctype html><meta charset="utf-8"><title>loading</title><script type="module" src="/runner.js"></script>';
    server = createServer((request, response) => {
      if (request.url === '/runner.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      } else if (request.url === '/' || request.url === '/index.html') {
        response.writeHead(200, { 'content-type': 'text/html' }).end(page);
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    profile = mkdtempSync(join(tmpdir(), 'recur-chromium-'));
  });

  afterAll(() => {
    server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /** Runs the case list in a fresh page; prints per-group counts and asserts nothing failed. */
  async function runInBrowser(what: string, options: { groups?: string[]; backend: Record<string, unknown> }) {
    const { chromium } = await import('playwright-core');
    // Playwright passes --headless (the new headless mode in current Chromium) and the profile itself.
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS.filter((a) => !a.startsWith('--headless')),
      headless: true,
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      await page.goto(url);
      await page.waitForFunction(() => document.title === 'ready' || document.title === 'loading-failed', null, { timeout: 60_000 });
      const started = Date.now();
      const report = (await page.evaluate(
        (o) => (globalThis as unknown as { runConformance: (o: unknown) => Promise<unknown> }).runConformance(o),
        { modelHidden: 8, filter: process.env.RECUR_BROWSER_FILTER, ...options },
      )) as RunReport;
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const count = (status: string, group?: string) =>
        report.results.filter((r) => r.status === status && (!group || r.group === group)).length;
      const groups = [...new Set(report.results.map((r) => r.group))];
      const lines = groups.map(
        (g) => `  ${g.padEnd(20)} ${count('passed', g)} passed, ${count('failed', g)} failed, ${count('skipped', g)} skipped`,
      );
      const failed = report.results.filter((r) => r.status === 'failed');
      const skipped = report.results.filter((r) => r.status === 'skipped');
      console.log(
        `browser conformance (${what}) on ${report.adapter} (maxStorageBuffersPerShaderStage ${report.maxStorageBuffersPerShaderStage}) in ${seconds} s:\n${lines.join('\n')}` +
          (skipped.length ? `\n  skipped:\n    ${skipped.map((r) => `${r.name}: ${r.message}`).join('\n    ')}` : '') +
          (failed.length ? `\n  failed:\n    ${failed.map((r) => `${r.name}: ${r.message}`).join('\n    ')}` : ''),
      );
      expect(errors).toEqual([]);
      expect(report.results.length).toBeGreaterThan(0);
      expect(failed.map((r) => `${r.name}: ${r.message}`)).toEqual([]);
    } finally {
      await browser.close();
    }
  }

  it('passes every conformance case', { timeout: 600_000 }, async () => {
    const featureLevel = process.env.RECUR_BROWSER_FEATURE_LEVEL;
    await runInBrowser('all cases, adapter defaults', { backend: featureLevel ? { featureLevel } : {} });
  });

  // SwiftShader is a CPU adapter, so by default it runs the register GEMM and split time steps;
  // what GPUs run by default is checked here on the same browser.
  it('passes the cross-backend cases with the GPU defaults (tiled GEMM, fused time steps)', { timeout: 600_000 }, async () => {
    await runInBrowser('GPU defaults', { groups: ['cross-backend'], backend: { gemm: 'tiled', stepKernel: 'fused' } });
  });
});
