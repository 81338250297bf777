// End-to-end test of the launcher in a real browser: Debian's chromium,
// driven by playwright-core, against a running `sagegate dev` whose URL is
// in SAGEGATE_URL (test/e2e/run.sh starts one on a free port). Screenshots
// go to SAGEGATE_ARTIFACTS (default test-artifacts/), which is git-ignored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.SAGEGATE_URL;
const ARTIFACTS = process.env.SAGEGATE_ARTIFACTS || 'test-artifacts';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// The flags DESIGN.md prescribes; playwright adds --headless itself.
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const profiles = [];
const contexts = [];

before(async () => {
  assert.ok(BASE, 'SAGEGATE_URL must point at a running `sagegate dev`');
  await mkdir(ARTIFACTS, { recursive: true });
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  for (const d of profiles) await rm(d, { recursive: true, force: true });
});

// browser starts a chromium with a fresh profile: one per person, so no
// cookie of one leaks into the other's run.
async function browser() {
  const dir = await mkdtemp(join(tmpdir(), 'sagegate-e2e-'));
  profiles.push(dir);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
  });
  contexts.push(context);
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

// signIn fills in the dev issuer's form as the given demo user.
async function signIn(page, username) {
  await page.waitForURL(/\/dev\/oidc\/authorize/);
  await page.getByRole('radio', { name: new RegExp(username) }).check();
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

// contrast computes the WCAG contrast ratio of an element's text against
// its own background, or the first ancestor's that is opaque.
function contrastOf(el) {
  const rgb = (s) => s.match(/[\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let bg = el;
  while (bg && rgb(getComputedStyle(bg).backgroundColor)[3] === 0) bg = bg.parentElement;
  const fg = lum(rgb(getComputedStyle(el).color));
  const back = lum(rgb(bg ? getComputedStyle(bg).backgroundColor : 'rgb(255,255,255)'));
  return (Math.max(fg, back) + 0.05) / (Math.min(fg, back) + 0.05);
}

test('user-lob-a signs in, sees their targets, opens Studio, and signs out', async () => {
  const { context, page } = await browser();

  // Signed out: the launcher offers to sign in, and lists nothing.
  await page.goto(BASE + '/');
  await page.getByRole('heading', { level: 1, name: /sign-in/ }).waitFor();
  assert.equal(await page.getByRole('link', { name: /^Open/ }).count(), 0);
  await page.getByRole('link', { name: 'Sign in' }).click();
  await signIn(page, 'user-lob-a');

  // Back on the launcher with user-lob-a's one target, grouped by LOB.
  await page.waitForURL(BASE + '/');
  await page.getByRole('heading', { level: 1, name: 'What you can open' }).waitFor();
  const group = page.getByRole('region', { name: 'lob-a' });
  assert.match(await group.innerText(), /AWS account 111111111111/);
  assert.match(await group.innerText(), /LOB A research \(simulated\)/);
  assert.match(await group.innerText(), /Studio · domain d-a1b2c3d4e5f6 · profile user-lob-a/);
  assert.equal(await page.getByRole('region', { name: 'lob-b' }).count(), 0, "user-lob-a must not see LOB B");
  assert.match(await page.getByRole('banner').innerText(), /Signed in as user-lob-a/);
  for (const landmark of ['banner', 'main', 'contentinfo']) {
    assert.equal(await page.getByRole(landmark).count(), 1, `one ${landmark} landmark`);
  }
  const open = page.getByRole('link', { name: 'Open LOB A research (simulated) (opens in a new tab)' });
  assert.equal(await open.getAttribute('href'), '/launch/lob-a');
  assert.equal(await open.getAttribute('target'), '_blank');
  assert.equal(await open.getAttribute('rel'), 'noopener noreferrer');
  for (const sel of ['a.button.open', 'h1', '.meta', '.bar .who']) {
    const ratio = await page.locator(sel).first().evaluate(contrastOf);
    assert.ok(ratio >= 4.5, `${sel} contrast ${ratio.toFixed(2)} is below 4.5:1`);
  }
  await shot(page, 'launcher.png');

  // Open mints the URL at click time, in a new tab, and lands in Studio.
  const [studio] = await Promise.all([context.waitForEvent('page'), open.click()]);
  await studio.waitForURL(/\/dev\/studio\/d-a1b2c3d4e5f6\//);
  assert.equal(await studio.locator('#profile').innerText(), 'user-lob-a');
  assert.equal(await studio.locator('#source-identity').innerText(), 'user-lob-a');
  assert.equal(await studio.evaluate(() => window.opener), null, 'the Studio tab must not reach back to the launcher');
  await studio.close();

  // Keyboard only: Tab to the Open button, with a visible focus ring,
  // and Enter opens Studio.
  await page.goto(BASE + '/');
  const visited = [];
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      const s = getComputedStyle(el);
      return { text: el.textContent.replace(/\s+/g, ' ').trim(), open: el.matches('a.open'), outline: s.outlineStyle, width: parseFloat(s.outlineWidth) };
    });
    visited.push(focused.text);
    if (focused.open) {
      assert.notEqual(focused.outline, 'none', 'focus must be visible');
      assert.ok(focused.width >= 2, `focus ring is ${focused.width}px`);
      break;
    }
  }
  assert.deepEqual(visited, ['Skip to main content', 'sagegate', 'Sign out', 'Open LOB A research (simulated) (opens in a new tab)'],
    'focus order: skip link, home, sign out, then the Open button');
  await shot(page, 'launcher-keyboard-focus.png');
  const [byKeyboard] = await Promise.all([context.waitForEvent('page'), page.keyboard.press('Enter')]);
  await byKeyboard.waitForURL(/\/dev\/studio\/d-a1b2c3d4e5f6\//);
  assert.equal(await byKeyboard.locator('#profile').innerText(), 'user-lob-a');
  await byKeyboard.close();

  // A 375-pixel-wide screen: no horizontal scrolling, Open fully visible.
  await page.setViewportSize({ width: 375, height: 740 });
  await page.goto(BASE + '/');
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: document.documentElement.clientWidth }));
  assert.ok(widths.scroll <= widths.view, `page is ${widths.scroll}px wide in a ${widths.view}px viewport`);
  const box = await open.boundingBox();
  assert.ok(await open.isVisible(), 'Open button visible');
  assert.ok(box.x >= 0 && box.x + box.width <= 375 && box.height >= 44, `Open button box ${JSON.stringify(box)}`);
  await shot(page, 'launcher-375.png');
  await page.setViewportSize({ width: 1280, height: 800 });

  // Sign out is a POST with the CSRF token; afterwards the session is
  // gone: the launcher is signed out and a deep link asks to sign in.
  const loggedOut = page.waitForResponse((r) => r.url() === BASE + '/auth/logout' && r.request().method() === 'POST');
  await page.getByRole('button', { name: 'Sign out' }).click();
  assert.equal((await loggedOut).status(), 303);
  await page.waitForLoadState();
  const left = (await context.cookies(BASE)).map((c) => c.name).filter((n) => n.startsWith('sagegate'));
  assert.deepEqual(left, [], 'session cookie removed');
  await page.goto(BASE + '/');
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
  await page.goto(BASE + '/launch/lob-a');
  await page.waitForURL(/\/dev\/oidc\/authorize/);
});

test("user-lob-b cannot use user-lob-a's deep link", async () => {
  const { page } = await browser();
  const resp = page.waitForResponse((r) => r.url() === BASE + '/launch/lob-a' && r.request().method() === 'GET' && r.status() !== 302);
  await page.goto(BASE + '/launch/lob-a');
  await signIn(page, 'user-lob-b');
  assert.equal((await resp).status(), 404);
  await page.getByRole('heading', { level: 1, name: 'This link is not one of yours' }).waitFor();
  assert.ok(!page.url().includes('/dev/studio/'), 'must not land in a Studio');
  assert.match(await page.locator('#request-id').innerText(), /^[0-9a-f]{24}$/);
  assert.match(await page.getByRole('main').innerText(), /What to do next/);
  await shot(page, 'error-not-your-link.png');

  // The way out leads to user-lob-b's own launcher.
  await page.getByRole('link', { name: 'Go to your launcher' }).click();
  await page.getByRole('region', { name: 'lob-b' }).waitFor();
  assert.equal(await page.getByRole('region', { name: 'lob-a' }).count(), 0);

  // Studio's own refusal from the wrong network is explained here.
  await page.getByRole('link', { name: 'Studio refused to open?' }).click();
  await page.getByRole('heading', { level: 1, name: 'Studio only opens from the company network' }).waitFor();
  await shot(page, 'error-wrong-network.png');

  // The confirmation page at /auth/logout signs out too.
  await page.goto(BASE + '/auth/logout');
  const loggedOut = page.waitForResponse((r) => r.url() === BASE + '/auth/logout' && r.request().method() === 'POST');
  await page.getByRole('button', { name: 'Sign out' }).click();
  assert.equal((await loggedOut).status(), 303);
  await page.goto(BASE + '/');
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
});

test('user-lob-a starts a stopped notebook: the progress page follows it, a second tab joins, then it opens', async () => {
  const { context, page } = await browser();
  await page.goto(BASE + '/');
  await page.getByRole('link', { name: 'Sign in' }).click();
  await signIn(page, 'user-lob-a');
  await page.waitForURL(BASE + '/');

  // The launcher shows the notebook stopped, with Start and open.
  const item = page.locator('li[data-target="lob-a:nb-user-lob-a"]');
  assert.match(await item.innerText(), /Notebook of user-lob-a \(simulated\)/);
  assert.match(await item.innerText(), /State: Stopped/);
  const open = page.getByRole('link', { name: 'Start and open Notebook of user-lob-a (simulated) (opens in a new tab)' });
  assert.equal(await open.getAttribute('href'), '/launch/lob-a:nb-user-lob-a');
  await shot(page, 'launcher-notebook-stopped.png');

  // Tab 1: the click starts it; the progress page follows it live.
  const [tab1] = await Promise.all([context.waitForEvent('page'), open.click()]);
  await tab1.getByRole('heading', { level: 1, name: 'Starting Notebook of user-lob-a (simulated)' }).waitFor();
  await tab1.locator('#history li', { hasText: 'Stopped' }).waitFor();
  await tab1.locator('#history li', { hasText: 'Pending' }).waitFor();
  assert.equal(await tab1.getByRole('status').count(), 1, 'the state is announced to screen readers');
  await shot(tab1, 'notebook-progress.png');

  // Tab 2, while it starts: joins the same start.
  const tab2 = await context.newPage();
  await tab2.goto(BASE + '/launch/lob-a:nb-user-lob-a');
  if (!tab2.url().includes('/dev/notebooks/')) {
    await tab2.locator('#joined').waitFor();
  }

  // Both land in the simulated notebook once it is InService.
  const landed = /\/dev\/notebooks\/111111111111\/us-east-1\/nb-user-lob-a\/tree$/;
  for (const tab of [tab1, tab2]) {
    await tab.waitForURL(landed, { timeout: 30_000 });
    assert.equal(await tab.locator('#instance').innerText(), 'nb-user-lob-a');
    assert.equal(await tab.locator('#source-identity').innerText(), 'user-lob-a');
  }
  assert.equal(await tab1.evaluate(() => window.opener), null, 'the notebook tab must not reach back to the launcher');
  await shot(tab1, 'notebook-landed.png');

  // The wait went Stopped -> Pending -> InService, and started it once.
  const status = await page.evaluate(async () => (await fetch('/api/v1/targets/lob-a:nb-user-lob-a/status')).json());
  assert.deepEqual(status.history.map((s) => s.state), ['Stopped', 'Pending', 'InService']);
  const calls = await (await fetch(BASE + '/dev/aws/calls')).json();
  const starts = calls.calls.filter((c) => c.operation === 'StartNotebookInstance').reduce((n, c) => n + c.count, 0);
  assert.equal(starts, 1, 'two tabs, one StartNotebookInstance');

  // Back on the launcher: InService, and its owner may stop it (a POST
  // carrying the session's CSRF token).
  await page.goto(BASE + '/');
  assert.match(await item.innerText(), /State: InService/);
  const stopped = page.waitForResponse((r) => r.url() === BASE + '/api/v1/targets/lob-a:nb-user-lob-a/stop' && r.request().method() === 'POST');
  await item.getByRole('button', { name: 'Stop Notebook of user-lob-a (simulated)' }).click();
  assert.equal((await stopped).status(), 303);
  await page.waitForLoadState();
  assert.match(await item.innerText(), /State: (Stopping|Stopped)/);
  assert.match(await item.innerText(), /Start and open|Open/);
  await shot(page, 'launcher-notebook-stopping.png');
});
