// accounts.mjs: the account pages in a real browser (headless Chromium driven
// by playwright-core): sign up, log out, log in, create an API token and use
// it, and a wrong password. Prints TAP; exits 1 when any step failed.
//
// Usage: VERDICT_URL=http://127.0.0.1:PORT node tests/browser/accounts.mjs
// Env: VERDICT_URL (required), BROWSER_ARTIFACTS (screenshot directory,
// default tests/browser/artifacts/), CHROMIUM (default /usr/bin/chromium).
// Normally run by tests/extra/browser, which starts a private stack.

import { chromium } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const WAIT_MS = 15000; // the bound on every single wait
const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.VERDICT_URL || '').replace(/\/+$/, '');
const ARTIFACTS = resolve(process.env.BROWSER_ARTIFACTS || join(HERE, 'artifacts'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ORIGIN = BASE ? new URL(BASE).origin : '';

const USERNAME = 'bt_' + randomBytes(5).toString('hex');
const PASSWORD = 'violet tangerine 42 kites';
const TOKEN_NAME = 'browser-test-' + randomBytes(3).toString('hex');

// ------------------------------------------------------------------ helpers

function fail(msg) {
	throw new Error(msg);
}

function path(page) {
	const u = new URL(page.url());
	return u.pathname + u.search;
}

// expectPath waits (bounded) until the page shows the given path.
async function expectPath(page, want) {
	try {
		await page.waitForURL((u) => u.pathname === want, { timeout: WAIT_MS });
	} catch {
		fail(`expected to be on ${want}, but the page is ${page.url()}`);
	}
}

async function expectText(locator, what, re) {
	try {
		await locator.first().waitFor({ state: 'visible', timeout: WAIT_MS });
	} catch {
		fail(`${what}: not found on the page`);
	}
	const t = (await locator.first().innerText({ timeout: WAIT_MS })).trim();
	if (!(re instanceof RegExp ? re.test(t) : t === re))
		fail(`${what}: got ${JSON.stringify(t)}, want ${re instanceof RegExp ? re : JSON.stringify(re)}`);
	return t;
}

// typeInto clicks a form field and types into it key by key, like a user.
async function typeInto(form, name, text) {
	const field = form.locator(`[name="${name}"]`);
	await field.click({ timeout: WAIT_MS });
	await field.fill('', { timeout: WAIT_MS });
	await field.pressSequentially(text, { timeout: WAIT_MS });
	const got = await field.inputValue({ timeout: WAIT_MS });
	if (got !== text) fail(`field ${name}: typed ${JSON.stringify(text)}, it holds ${JSON.stringify(got)}`);
}

// submit clicks a form's submit button and returns the response to the
// form's POST (a 303, or the page itself) once the resulting page has loaded.
async function submit(page, form, action) {
	const posted = page.waitForResponse(
		(r) => r.request().method() === 'POST' && new URL(r.url()).pathname === action,
		{ timeout: WAIT_MS });
	const navigated = page.waitForNavigation({ waitUntil: 'load', timeout: WAIT_MS });
	await form.locator('button[type="submit"]').click({ timeout: WAIT_MS });
	let resp;
	try {
		resp = await posted;
	} catch {
		fail(`no response to POST ${action} within ${WAIT_MS} ms`);
	}
	try {
		await navigated;
	} catch {
		fail(`the page after POST ${action} did not load within ${WAIT_MS} ms`);
	}
	return resp;
}

async function goto(page, p) {
	const resp = await page.goto(BASE + p, { waitUntil: 'load', timeout: WAIT_MS });
	if (!resp) fail(`GET ${p}: no response`);
	return resp;
}

function expectStatus(resp, want, what) {
	if (resp.status() !== want) fail(`${what}: HTTP ${resp.status()}, want ${want} (${resp.url()})`);
}

// Diagnostics are kept as JSON-ish one-liners so a failure shows request and
// response at a glance.
function describe(resp) {
	return `${resp.request().method()} ${new URL(resp.url()).pathname} -> ${resp.status()}` +
		(resp.headers().location ? ` Location: ${resp.headers().location}` : '');
}

// ------------------------------------------------------------------ steps

let userDataDir, context, page;
let token = null;
const unexpected = []; // sub-resource or page responses >= 400 nobody asked for
const expected401 = new Set();

function watch(p) {
	p.on('response', (r) => {
		if (r.status() < 400) return;
		const key = `${r.request().method()} ${new URL(r.url()).pathname}`;
		if (expected401.has(key) && r.status() === 401) return;
		unexpected.push(`${key} -> ${r.status()}`);
	});
	p.on('requestfailed', (r) => {
		// A navigation replacing a pending one aborts it; that is no error.
		const err = r.failure()?.errorText || '?';
		if (err !== 'net::ERR_ABORTED') unexpected.push(`${r.method()} ${r.url()} failed: ${err}`);
	});
	p.setDefaultTimeout(WAIT_MS);
	p.setDefaultNavigationTimeout(WAIT_MS);
}

const steps = [
	{
		name: 'chromium starts and loads /healthz',
		shot: false,
		async run() {
			userDataDir = mkdtempSync(join(tmpdir(), 'verdict-chromium-'));
			// A persistent context on a fresh temp dir: nothing from a
			// previous run (cookies, cache) leaks in.
			context = await chromium.launchPersistentContext(userDataDir, {
				executablePath: CHROMIUM,
				headless: true,
				timeout: WAIT_MS,
				args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
					'--disable-background-networking', '--disable-component-update',
					'--disable-sync', '--disable-quic'],
				viewport: { width: 1100, height: 900 },
			});
			page = context.pages()[0] || await context.newPage();
			watch(page);
			const resp = await goto(page, '/healthz');
			expectStatus(resp, 200, 'GET /healthz');
		},
	},
	{
		name: 'sign up through /signup lands on /account showing the username',
		async run() {
			expectStatus(await goto(page, '/signup'), 200, 'GET /signup');
			const form = page.locator('form[action="/signup"]');
			if (await form.count() !== 1) fail('no signup form on /signup (signup closed?)');
			if (!(await form.locator('input[name="csrf_token"]').inputValue()))
				fail('the signup form has an empty csrf_token');
			await typeInto(form, 'username', USERNAME);
			await typeInto(form, 'password', PASSWORD);
			await typeInto(form, 'password2', PASSWORD);
			const resp = await submit(page, form, '/signup');
			if (resp.status() !== 303) {
				const err = await page.locator('.flash-error').allInnerTexts().catch(() => []);
				fail(`${describe(resp)}, want 303 to /account; page says: ${err.join(' | ') || '(no error shown)'}`);
			}
			await expectPath(page, '/account');
			await expectText(page.locator('main h1'), 'the /account heading', USERNAME);
			await expectText(page.locator('header nav a[href="/account"]'), 'the nav link to /account', USERNAME);
			// The session cookie is out of reach of scripts.
			for (const c of await context.cookies(BASE)) {
				if (/sess/i.test(c.name) && !c.httpOnly) fail(`cookie ${c.name} is not HttpOnly`);
				if (/sess/i.test(c.name) && c.sameSite === 'None') fail(`cookie ${c.name} has SameSite=None`);
			}
		},
	},
	{
		name: 'the log out button leads to /login with "You are logged out."',
		async run(snap) {
			const form = page.locator('form[action="/logout"]');
			if (await form.count() !== 1) fail('no "Log out" button on /account');
			const before = (await context.cookies(BASE)).map((c) => `${c.name}=${c.value}`).join('; ');
			const resp = await submit(page, form, '/logout');
			if (resp.status() !== 303) fail(`${describe(resp)}, want 303 to /login`);
			await expectPath(page, '/login');
			await expectText(page.locator('main .flash'), 'the flash', 'You are logged out.');
			await expectText(page.locator('main h1'), 'the /login heading', 'Log in');
			await snap();
			// Logged out for real: /account sends us back to the login page.
			await goto(page, '/account');
			await expectPath(page, '/login');
			const next = new URL(page.url()).searchParams.get('next');
			if (next !== '/account') fail(`after logout GET /account went to ${path(page)}, want /login?next=/account`);
			const flashes = await page.locator('main .flash').allInnerTexts();
			if (flashes.some((t) => t.includes('logged out')))
				fail('the "logged out" flash is shown a second time');
			// The server forgot the session, not only the browser: the
			// cookies from before the logout no longer open /account.
			const replay = await fetch(BASE + '/account', {
				headers: { Cookie: before },
				redirect: 'manual',
				signal: AbortSignal.timeout(WAIT_MS),
			});
			await replay.arrayBuffer();
			const loc = replay.headers.get('location') || '';
			if (replay.status !== 303 || !loc.startsWith('/login'))
				fail(`GET /account with the cookies from before the logout -> ${replay.status} ${loc}, want 303 to /login`);
		},
	},
	{
		name: 'log in through /login (next=/account) lands on /account',
		async run() {
			// We are on /login?next=/account from the previous step; start
			// there again, so the step stands on its own.
			expectStatus(await goto(page, '/login?next=%2Faccount'), 200, 'GET /login');
			const form = page.locator('form[action="/login"]');
			const next = await form.locator('input[name="next"]').inputValue();
			if (next !== '/account') fail(`hidden next is ${JSON.stringify(next)}, want "/account"`);
			await typeInto(form, 'username', USERNAME);
			await typeInto(form, 'password', PASSWORD);
			const resp = await submit(page, form, '/login');
			if (resp.status() !== 303) fail(`${describe(resp)}, want 303 to /account`);
			await expectPath(page, '/account');
			await expectText(page.locator('main h1'), 'the /account heading', USERNAME);
		},
	},
	{
		name: 'create an API token through the form: a vdt_ token is shown once',
		async run(snap) {
			const form = page.locator('form[action="/account/tokens"]');
			if (await form.count() !== 1) fail('no "Create token" form on /account');
			await typeInto(form, 'name', TOKEN_NAME);
			await typeInto(form, 'expires_days', '7');
			const resp = await submit(page, form, '/account/tokens');
			if (resp.status() >= 400) fail(`${describe(resp)}`);
			token = await expectText(page.locator('code#new-token'), 'the new token', /^vdt_[A-Za-z0-9_-]{16,}$/);
			const names = await page.locator('main table td:first-child').allInnerTexts();
			if (!names.map((s) => s.trim()).includes(TOKEN_NAME))
				fail(`the tokens table does not list ${TOKEN_NAME}: ${JSON.stringify(names)}`);
			await snap();
			// Once: a fresh GET of /account lists the token but not its secret.
			await goto(page, '/account');
			if (await page.locator('code#new-token').count() !== 0) fail('GET /account shows the token again');
			const html = await page.content();
			if (html.includes(token)) fail('GET /account still contains the token secret');
			const names2 = await page.locator('main table td:first-child').allInnerTexts();
			if (!names2.map((s) => s.trim()).includes(TOKEN_NAME))
				fail(`after reload the tokens table does not list ${TOKEN_NAME}`);
		},
	},
	{
		name: 'GET /api/me with the token answers 200 with the username',
		shot: false,
		async run() {
			if (!token) fail('no token from the previous step');
			const res = await fetch(BASE + '/api/me', {
				headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
				redirect: 'manual',
				signal: AbortSignal.timeout(WAIT_MS),
			});
			const body = await res.text();
			if (res.status !== 200) fail(`GET /api/me -> ${res.status}: ${body.slice(0, 300)}`);
			let j;
			try {
				j = JSON.parse(body);
			} catch {
				fail(`GET /api/me: not JSON: ${body.slice(0, 300)}`);
			}
			if (j.username !== USERNAME) fail(`GET /api/me: username ${JSON.stringify(j.username)}, want ${USERNAME}`);
			if (j.auth !== undefined && j.auth !== 'bearer') fail(`GET /api/me: auth ${JSON.stringify(j.auth)}, want "bearer"`);
			// And a token that is not one is refused.
			const bad = await fetch(BASE + '/api/me', {
				headers: { Authorization: `Bearer ${token}x` },
				redirect: 'manual',
				signal: AbortSignal.timeout(WAIT_MS),
			});
			await bad.arrayBuffer();
			if (bad.status !== 401) fail(`GET /api/me with a wrong token -> ${bad.status}, want 401`);
		},
	},
	{
		name: 'a wrong password on /login shows "invalid username or password" with HTTP 401',
		async run(snap) {
			// Logged out first, so this is what a stranger sees.
			await goto(page, '/account');
			const out = page.locator('form[action="/logout"]');
			if (await out.count() === 1) await submit(page, out, '/logout');
			expectStatus(await goto(page, '/login'), 200, 'GET /login');
			const form = page.locator('form[action="/login"]');
			await typeInto(form, 'username', USERNAME);
			await typeInto(form, 'password', PASSWORD + ' nope');
			expected401.add('POST /login');
			const resp = await submit(page, form, '/login');
			if (resp.status() !== 401) fail(`${describe(resp)}, want 401 with the login form`);
			await expectPath(page, '/login');
			await expectText(page.locator('main .flash-error'), 'the error', /invalid username or password/);
			// The form is shown again, username kept, password not.
			const f2 = page.locator('form[action="/login"]');
			const u = await f2.locator('input[name="username"]').inputValue();
			const p = await f2.locator('input[name="password"]').inputValue();
			if (u !== USERNAME) fail(`the form kept username ${JSON.stringify(u)}, want ${USERNAME}`);
			if (p !== '') fail('the form echoes the password back');
			await snap();
			// Still logged out.
			await goto(page, '/account');
			await expectPath(page, '/login');
		},
	},
	{
		name: 'no unexpected HTTP errors or failed requests in the browser',
		shot: false,
		async run() {
			if (unexpected.length) fail(unexpected.join('; '));
		},
	},
];

// ------------------------------------------------------------------ main

function slug(s) {
	return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

async function screenshot(k, name) {
	if (!page || page.isClosed()) return;
	const file = join(ARTIFACTS, `${String(k).padStart(2, '0')}-${slug(name)}.png`);
	try {
		await page.screenshot({ path: file, fullPage: true, timeout: WAIT_MS });
	} catch (e) {
		console.log(`# screenshot ${file} failed: ${e.message.split('\n')[0]}`);
	}
}

async function main() {
	console.log(`1..${steps.length}`);
	if (!BASE) {
		steps.forEach((s, i) => console.log(`not ok ${i + 1} - ${s.name}\n# VERDICT_URL is not set`));
		return 1;
	}
	mkdirSync(ARTIFACTS, { recursive: true });
	console.log(`# ${BASE} user ${USERNAME}; screenshots in ${ARTIFACTS}`);
	let failed = 0;
	let broken = null; // once the browser is gone, later browser steps cannot run
	for (const [i, s] of steps.entries()) {
		const k = i + 1;
		if (broken) {
			console.log(`not ok ${k} - ${s.name}\n# not run: ${broken}`);
			failed++;
			continue;
		}
		const t0 = Date.now();
		let shot = false;
		let failedNow = false;
		const snap = async () => { shot = true; await screenshot(k, s.name); };
		try {
			await s.run(snap);
			console.log(`ok ${k} - ${s.name} (${Date.now() - t0} ms)`);
		} catch (e) {
			failed++;
			failedNow = true;
			console.log(`not ok ${k} - ${s.name}`);
			const msg = String(e?.message ?? e).replace(/\x1b\[[0-9;]*m/g, '');
			for (const line of msg.split('\n').filter((l) => l.trim()).slice(0, 8))
				console.log(`# ${line}`);
			if (page) console.log(`# page: ${page.isClosed() ? '(closed)' : page.url()}`);
			if (!context) broken = 'chromium did not start';
		}
		// After the step (or where the step took it), and always on failure.
		if (!shot && (s.shot !== false || k === 1 || failedNow)) await screenshot(k, s.name);
	}
	return failed ? 1 : 0;
}

// A watchdog on top of the per-wait bounds, in case something hangs between
// them (a dead browser pipe).
const watchdog = setTimeout(() => {
	console.log('Bail out! accounts.mjs took longer than 180 s');
	process.exit(1);
}, 180000);

let rc = 1;
try {
	rc = await main();
} catch (e) {
	console.log(`Bail out! ${String(e?.message ?? e).split('\n')[0]}`);
} finally {
	try {
		if (context) await context.close();
	} catch { /* the browser is gone already */ }
	if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
	clearTimeout(watchdog);
}
process.exit(rc);
