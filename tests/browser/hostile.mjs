// Headless Chromium against a running `ward serve` (started by
// crates/ward/tests/serve.rs, which passes everything through the
// environment): sign in with password + TOTP, open the device whose DHCP
// host name is `<script>alert(1)</script>`, and check that no dialog fires,
// no script element exists and the name is visible as text. Then the tour a
// hospital engineer takes: overview → device list → the riskiest device
// (its risk reasons and remediations) → network map → advisories → alerts →
// intake, clicking the navigation; every page of the tour gets lib.mjs's
// checkPage (no named device labelled by its key, no internal kind or
// category name, chart labels inside their charts, long text wrapped).
// Screenshots of every step go to $WARD_ARTIFACTS.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { env, check, results, launch, namedKeys, checkPage, totp } from './lib.mjs';

const base = env('WARD_URL');
const user = env('WARD_USER');
const password = env('WARD_PASSWORD');
const secret = env('WARD_TOTP_SECRET');
const deviceKey = env('WARD_DEVICE_KEY');
const hostile = env('WARD_HOSTILE_NAME');
const artifacts = env('WARD_ARTIFACTS');
const riskyKey = env('WARD_RISKY_KEY');
const token = env('WARD_TOKEN');
// JSON spellings (`infusion_pump`, `port_scan`) that must not be shown.
const internal = env('WARD_INTERNAL_NAMES').split(',');
// Display names of the kinds of the alerts stored (`Port scan`).
const kindNames = env('WARD_ALERT_KIND_NAMES').split(',');
mkdirSync(artifacts, { recursive: true });

const context = await launch();
try {
  const page = await context.newPage();
  const dialogs = [];
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });

  await page.goto(`${base}/login`);
  await page.fill('input[name=name]', user);
  await page.fill('input[name=password]', password);
  await page.fill('input[name=code]', totp(secret));
  await page.screenshot({ path: join(artifacts, 'login.png') });
  await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
  check(await page.locator('text=Overview').first().isVisible(), 'signed in with password and TOTP');
  const named = await namedKeys(context, base, token);
  check(named.size > 5, `the API lists named devices (${named.size})`);
  await page.screenshot({ path: join(artifacts, 'overview.png'), fullPage: true });

  await page.goto(`${base}/devices`);
  await page.screenshot({ path: join(artifacts, 'devices.png'), fullPage: true });
  check(await page.getByText(hostile, { exact: true }).first().isVisible(), 'hostile host name visible as text in the device list');

  await page.goto(`${base}/device?key=${encodeURIComponent(deviceKey)}`);
  await page.screenshot({ path: join(artifacts, 'device.png'), fullPage: true });
  check((await page.textContent('#device-name')) === hostile, 'device page title is the hostile name, as text');
  check((await page.locator('script').count()) === 0, 'no script element in the device page');
  check((await page.locator('img').count()) === 0, 'no injected img element');
  // Give any injected handler a moment to fire before checking.
  await page.waitForTimeout(300);
  check(dialogs.length === 0, `no alert dialog fired (${JSON.stringify(dialogs)})`);

  // The tour, through the navigation.
  await Promise.all([page.waitForURL(`${base}/`), page.click('header nav a[href="/"]')]);
  check(await page.locator('.cards .card').count() >= 5, 'overview shows the summary cards');
  check(await page.locator('svg[aria-label="Risk distribution"] rect').count() === 6, 'overview shows the risk distribution chart');
  await page.screenshot({ path: join(artifacts, 'tour-1-overview.png'), fullPage: true });
  await checkPage(page, 'overview', named, internal);
  await Promise.all([page.waitForURL(/\/devices/), page.click('header nav a[href="/devices"]')]);
  check(await page.locator('table tbody tr').count() > 5, 'device list shows devices');
  await page.screenshot({ path: join(artifacts, 'tour-2-devices.png'), fullPage: true });
  await checkPage(page, 'devices', named, internal);
  // The first row is the riskiest device (the list is sorted by risk).
  const first = page.locator('table tbody tr a.device-link').first();
  const href = await first.getAttribute('href');
  check(href === `/device?key=${encodeURIComponent(riskyKey)}`, `first row is the riskiest device (${href})`);
  await Promise.all([page.waitForURL(/\/device\?key=/), first.click()]);
  const reasons = await page.locator('#findings li').count();
  check(reasons > 0, `device page lists its risk reasons (${reasons})`);
  check(await page.locator('#findings .fix').first().isVisible(), 'each risk reason says how to fix it');
  check(await page.getByRole('heading', { name: 'Risk reasons' }).isVisible(), 'risk reasons heading visible');
  await page.screenshot({ path: join(artifacts, 'tour-3-device.png'), fullPage: true });
  await checkPage(page, 'device', named, internal);
  await Promise.all([page.waitForURL(`${base}/map`), page.click('header nav a[href="/map"]')]);
  const nodes = await page.locator('svg.netmap circle').count();
  check(nodes > 3, `network map draws hosts (${nodes})`);
  check(await page.locator('svg.netmap line').count() > 0, 'network map draws links');
  check((await page.locator('script').count()) === 0, 'no script element in the map page');
  await page.screenshot({ path: join(artifacts, 'tour-4-map.png'), fullPage: true });
  await checkPage(page, 'map', named, internal);
  await Promise.all([page.waitForURL(`${base}/advisories`), page.click('header nav a[href="/advisories"]')]);
  check(await page.getByRole('heading', { name: 'Advisories and affected fleets' }).isVisible(), 'advisories page shown');
  await page.screenshot({ path: join(artifacts, 'tour-5-advisories.png'), fullPage: true });
  await checkPage(page, 'advisories', named, internal);
  await Promise.all([page.waitForURL(`${base}/alerts`), page.click('header nav a[href="/alerts"]')]);
  check(await page.getByRole('heading', { name: 'Alerts', exact: true }).isVisible(), 'alerts page shown');
  check((await page.locator('script').count()) === 0, 'no script element in the alerts page');
  await page.screenshot({ path: join(artifacts, 'tour-6-alerts.png'), fullPage: true });
  await checkPage(page, 'alerts', named, internal);
  for (const k of kindNames) {
    const cell = page.locator('table.alerts tbody td', { hasText: new RegExp(`^${k}$`) });
    check(await cell.first().isVisible(), `alerts page shows the kind "${k}"`);
  }
  await Promise.all([page.waitForURL(`${base}/intake`), page.click('header nav a[href="/intake"]')]);
  check(await page.locator('#waiting tbody tr').count() > 0, 'intake lists devices awaiting approval');
  for (const col of ['Address', 'Vendor', 'Category', 'Subnet']) {
    check(await page.locator('#waiting thead th', { hasText: col }).count() === 1, `intake has the column ${col}`);
  }
  await page.screenshot({ path: join(artifacts, 'tour-7-intake.png'), fullPage: true });
  await checkPage(page, 'intake', named, internal);
  await page.goto(`${base}/account`);
  await page.screenshot({ path: join(artifacts, 'tour-8-account.png'), fullPage: true });
  check(dialogs.length === 0, 'still no dialog after the tour');
} finally {
  await context.close();
}
console.log(`${results.passed} passed, ${results.failed} failed`);
process.exit(results.failed === 0 ? 0 : 1);
