// Shared by the browser tests: environment, TOTP, Chromium, sign-in, and
// the checks every page of the tour gets (names instead of keys, display
// names instead of internal ones, chart labels that fit, text that wraps).
import { chromium } from 'playwright-core';
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s).
export function totp(b32, now = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, buf = 0;
  const bytes = [];
  for (const c of b32.replace(/=+$/, '').toUpperCase()) {
    buf = (buf << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) { bits -= 8; bytes.push((buf >> bits) & 0xff); }
  }
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 1000 / 30)));
  const h = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const off = h[19] & 0xf;
  const bin = ((h[off] & 0x7f) << 24) | (h[off + 1] << 16) | (h[off + 2] << 8) | h[off + 3];
  return String(bin % 1000000).padStart(6, '0');
}

export const results = { passed: 0, failed: 0 };
export const check = (ok, what) => {
  if (ok) { results.passed++; console.log(`ok - ${what}`); } else { results.failed++; console.log(`not ok - ${what}`); }
};

// A fresh profile directory per run (playwright passes it as --user-data-dir).
export async function launch() {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'ward-chromium-')), {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    // The server's certificate is the self-signed one it generated for this run.
    ignoreHTTPSErrors: true,
    viewport: { width: 1360, height: 900 },
  });
}

export async function signIn(page, base, user, password, secret) {
  await page.goto(`${base}/login`);
  await page.fill('input[name=name]', user);
  await page.fill('input[name=password]', password);
  await page.fill('input[name=code]', totp(secret));
  await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
}

// Keys of the devices that have a name (a name or a model), from the API.
export async function namedKeys(context, base, token) {
  const named = new Set();
  for (let p = 1; ; p++) {
    const r = await context.request.get(`${base}/api/v1/devices?per_page=500&page=${p}`, { headers: { authorization: `Bearer ${token}` } });
    const v = await r.json();
    for (const d of v.devices) {
      if (d.names.some((n) => n.trim() !== '') || (d.model && d.model.trim() !== '')) named.add(d.key);
    }
    if (p * v.per_page >= v.total) break;
  }
  return named;
}

// The checks of acceptance item 1, on the page shown.
export async function checkPage(page, what, named, internal) {
  // No device that has a name is labelled by its key.
  const links = await page.$$eval('a[href^="/device?key="]', (as) => as.map((a) => ({ href: a.getAttribute('href'), text: a.textContent.trim() })));
  const keyed = links.filter((l) => {
    const key = new URL(l.href, 'https://x').searchParams.get('key');
    return named.has(key) && (l.text === key || /^(mac|ip):/.test(l.text));
  });
  check(keyed.length === 0, `${what}: no named device labelled by its key (${links.length} links${keyed.length ? `; ${JSON.stringify(keyed.slice(0, 3))}` : ''})`);
  // Alert kinds and categories in display form, not their JSON spelling.
  const text = await page.evaluate(() => document.body.innerText);
  const seen = internal.filter((n) => new RegExp(`(^|[^\\w])${n}([^\\w]|$)`).test(text));
  check(seen.length === 0, `${what}: no internal kind or category names shown (${JSON.stringify(seen)})`);
  // Chart labels inside their chart.
  const out = await page.$$eval('svg[role=img]:not(.netmap) text', (ts) => ts.map((t) => {
    const svg = t.ownerSVGElement;
    const w = svg.viewBox.baseVal && svg.viewBox.baseVal.width ? svg.viewBox.baseVal.width : svg.width.baseVal.value;
    const b = t.getBBox();
    return { text: t.textContent, left: b.x, right: b.x + b.width, w };
  }).filter((b) => b.left < 0 || b.right > b.w));
  check(out.length === 0, `${what}: every chart label fits its chart (${JSON.stringify(out.slice(0, 3))})`);
  // Long text wraps instead of being cut.
  const cut = await page.$$eval('td.fix, td.summary', (tds) => tds.filter((td) => td.scrollWidth > td.clientWidth + 1).map((td) => td.textContent.slice(0, 40)));
  check(cut.length === 0, `${what}: long text wraps (${JSON.stringify(cut.slice(0, 3))})`);
}
