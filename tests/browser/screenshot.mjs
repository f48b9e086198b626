// The README's screenshot (docs/img/dashboard.png), made by
// scripts/readme-screenshot: headless Chromium signs in to a running
// `ward serve` with password + TOTP and captures the overview page.
// Environment: WARD_URL, WARD_USER, WARD_PASSWORD, WARD_TOTP_SECRET, WARD_SCREENSHOT.
import { chromium } from 'playwright-core';
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const base = env('WARD_URL');

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s).
function totp(b32, now = Date.now()) {
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

const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'ward-chromium-')), {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  ignoreHTTPSErrors: true,
  viewport: { width: 1280, height: 740 },
});
try {
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('input[name=name]', env('WARD_USER'));
  await page.fill('input[name=password]', env('WARD_PASSWORD'));
  await page.fill('input[name=code]', totp(env('WARD_TOTP_SECRET')));
  await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
  await page.screenshot({ path: env('WARD_SCREENSHOT') });
  console.log(`wrote ${process.env.WARD_SCREENSHOT}`);
} finally {
  await context.close();
}
