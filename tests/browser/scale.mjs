// Headless Chromium against a `ward serve` over a large store (built by
// crates/ward/tests/serve.rs, test `browser_renders_hostile_names_as_text`):
// 12,345 devices of one category, so the overview's category chart must
// fit a five-digit count, and a subnet with 500 devices awaiting intake,
// approved with one click ("Approve all 500 matching").
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { env, check, results, launch, signIn, namedKeys, checkPage } from './lib.mjs';

const base = env('WARD_URL');
const artifacts = env('WARD_ARTIFACTS');
const internal = env('WARD_INTERNAL_NAMES').split(',');
const subnet = env('WARD_SUBNET');
const category = env('WARD_CATEGORY');
mkdirSync(artifacts, { recursive: true });

const context = await launch();
try {
  const page = await context.newPage();
  await signIn(page, base, env('WARD_USER'), env('WARD_PASSWORD'), env('WARD_TOTP_SECRET'));
  const named = await namedKeys(context, base, env('WARD_TOKEN'));
  check(named.size >= 12345, `the API lists the fleet (${named.size} named)`);
  await page.goto(`${base}/`);
  await page.screenshot({ path: join(artifacts, 'scale-overview.png'), fullPage: true });
  const chart = page.locator('svg[aria-label="Devices by category"]');
  check((await chart.locator('text', { hasText: category }).count()) === 1, `category chart labels "${category}"`);
  const count = chart.locator('text.count', { hasText: '12,345' });
  check((await count.count()) === 1, 'category chart shows 12,345 in full');
  check((await page.locator('.cards .card b').first().textContent()) === '12,345', 'the device count card reads 12,345');
  await checkPage(page, 'overview (12,345 of one category)', named, internal);

  await page.goto(`${base}/intake?subnet=${encodeURIComponent(subnet)}`);
  check(await page.getByRole('heading', { name: 'Awaiting approval (500)' }).isVisible(), `500 devices of ${subnet} await approval`);
  await checkPage(page, 'intake', named, internal);
  await page.screenshot({ path: join(artifacts, 'scale-intake.png'), fullPage: false });
  await page.fill('#bulk input[name=owner]', 'biomed');
  await Promise.all([page.waitForURL(`${base}/intake/bulk`), page.click('#approve-matching')]);
  check((await page.textContent('#notice')) === 'Approved 500 devices.', 'one action approved the 500');
  check(await page.getByRole('heading', { name: 'Awaiting approval (0)' }).isVisible(), 'none of the subnet awaits approval');
  check(await page.getByRole('heading', { name: 'Approved (500)' }).isVisible(), 'the 500 are approved');
  await page.screenshot({ path: join(artifacts, 'scale-approved.png'), fullPage: false });
} finally {
  await context.close();
}
console.log(`${results.passed} passed, ${results.failed} failed`);
process.exit(results.failed === 0 ? 0 : 1);
