// browse.mjs: experiment browsing in a real browser (headless Chromium driven
// by playwright-core): open an experiment, filter, sort by a metric, select
// two runs, compare them, open a metric chart, and see a run's times in the
// browser's zone (the browser runs in America/New_York). The data is logged
// through the MLflow REST API first. Prints TAP; exits 1 when any step failed.
//
// Usage: VERDICT_URL=http://127.0.0.1:PORT node tests/browser/browse.mjs
// Env: VERDICT_URL (required), BROWSER_ARTIFACTS (screenshot directory,
// default tests/browser/artifacts/), CHROMIUM (default /usr/bin/chromium).
// Normally run by tests/extra/browser, which starts a private stack.

import { chromium } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const WAIT_MS = 15000;
const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.VERDICT_URL || '').replace(/\/+$/, '');
const ARTIFACTS = resolve(process.env.BROWSER_ARTIFACTS || join(HERE, 'artifacts'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const USERNAME = 'bb_' + randomBytes(5).toString('hex');
const PASSWORD = 'violet tangerine 42 kites';
const EXPERIMENT = 'browse <b>demo</b> ' + randomBytes(3).toString('hex');

function fail(msg) {
	throw new Error(msg);
}

async function api(method, path, body, token) {
	const headers = { 'Content-Type': 'application/json' };
	if (token) headers.Authorization = `Bearer ${token}`;
	const r = await fetch(BASE + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
	const text = await r.text();
	if (r.status >= 300) fail(`${method} ${path} -> ${r.status}: ${text.slice(0, 300)}`);
	return text ? JSON.parse(text) : {};
}

async function goto(page, p) {
	const resp = await page.goto(BASE + p, { waitUntil: 'load', timeout: WAIT_MS });
	if (!resp) fail(`GET ${p}: no response`);
	return resp;
}

// clickAndLoad clicks and waits for the navigation it starts; returns the response status.
async function clickAndLoad(page, locator) {
	const [resp] = await Promise.all([
		page.waitForNavigation({ waitUntil: 'load', timeout: WAIT_MS }),
		locator.click({ timeout: WAIT_MS }),
	]);
	return resp ? resp.status() : 0;
}

async function runNames(page) {
	return page.locator('table.runs tbody td.name a').allInnerTexts();
}

let userDataDir, context, page, expId, firstRun;
const unexpected = [];

const steps = [
	{
		name: 'data logged through the MLflow API; chromium logs in',
		shot: false,
		async run() {
			await api('POST', '/api/signup', { username: USERNAME, password: PASSWORD });
			const tr = await fetch(BASE + '/api/token', {
				method: 'POST',
				headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
				body: new URLSearchParams({ username: USERNAME, password: PASSWORD }),
			});
			const token = (await tr.json()).access_token;
			if (!token) fail('no token from /api/token');
			expId = (await api('POST', '/api/2.0/mlflow/experiments/create', { name: EXPERIMENT }, token)).experiment_id;
			for (let i = 0; i < 4; i++) {
				const run = (await api('POST', '/api/2.0/mlflow/runs/create',
					{ experiment_id: expId, run_name: `run-${i}`, start_time: 1700000000000 + i * 1000 }, token)).run.info.run_id;
				if (i === 0) {
					firstRun = run;
					const put = await fetch(`${BASE}/api/2.0/mlflow-artifacts/artifacts/${expId}/${run}/artifacts/model/notes.txt`,
						{ method: 'PUT', headers: { Authorization: `Bearer ${token}` }, body: 'trained on flights\n' });
					if (put.status !== 200) fail(`artifact PUT -> ${put.status}`);
				}
				const metrics = [];
				for (let s = 0; s < 50; s++)
					metrics.push({ key: 'rmse', value: 1 / (s + 1) + i * 0.05, timestamp: 1700000000000 + s * 1000, step: s });
				await api('POST', '/api/2.0/mlflow/runs/log-batch', {
					run_id: run, metrics,
					params: [{ key: 'model', value: i % 2 ? 'lgbm' : 'xgb' }, { key: 'lr', value: String(0.1 * (i + 1)) }],
				}, token);
			}
			userDataDir = mkdtempSync(join(tmpdir(), 'verdict-chromium-'));
			context = await chromium.launchPersistentContext(userDataDir, {
				executablePath: CHROMIUM, headless: true, timeout: WAIT_MS,
				args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
					'--disable-background-networking', '--disable-component-update',
					'--disable-sync', '--disable-quic'],
				viewport: { width: 1200, height: 900 },
				timezoneId: 'America/New_York',
			});
			page = context.pages()[0] || await context.newPage();
			page.setDefaultTimeout(WAIT_MS);
			page.on('response', (r) => {
				if (r.status() >= 400) unexpected.push(`${r.request().method()} ${new URL(r.url()).pathname} -> ${r.status()}`);
			});
			await goto(page, '/login');
			const form = page.locator('form[action="/login"]');
			await form.locator('[name="username"]').fill(USERNAME);
			await form.locator('[name="password"]').fill(PASSWORD);
			const st = await clickAndLoad(page, form.locator('button[type="submit"]'));
			if (st >= 400) fail(`login -> ${st}`);
		},
	},
	{
		name: 'the Experiments nav link lists the experiment; opening it shows its four runs',
		async run(snap) {
			await goto(page, '/');
			await clickAndLoad(page, page.locator('header nav a[href="/experiments"]'));
			const link = page.locator(`a[href="/experiments/${expId}"]`).first();
			if ((await link.innerText()).trim() !== EXPERIMENT) fail(`the link reads ${JSON.stringify(await link.innerText())}`);
			await clickAndLoad(page, link);
			const names = await runNames(page);
			if (names.length !== 4) fail(`${names.length} runs shown, want 4: ${names}`);
			if ((await page.locator('main h1').innerText()).trim() !== EXPERIMENT) fail('the heading is not the experiment name as text');
			await snap();
		},
	},
	{
		name: "filter params.model = 'xgb' keeps run-0 and run-2, and the filter stays in the box",
		async run(snap) {
			await page.locator('#filter').fill("params.model = 'xgb'");
			await clickAndLoad(page, page.locator('form.filter button[type="submit"]'));
			const names = (await runNames(page)).sort();
			if (names.join() !== 'run-0,run-2') fail(`filtered runs: ${names}`);
			if (await page.locator('#filter').inputValue() !== "params.model = 'xgb'") fail('the filter box lost the filter');
			if (!new URL(page.url()).searchParams.get('filter')) fail('the filter is not in the URL');
			await snap();
		},
	},
	{
		name: 'a bad filter shows the error inline at its position',
		async run(snap) {
			await page.locator('#filter').fill('params.lr > 1');
			await clickAndLoad(page, page.locator('form.filter button[type="submit"]'));
			const err = await page.locator('.filter-error').innerText();
			if (!/position 11/.test(err)) fail(`the error says ${JSON.stringify(err)}`);
			if ((await page.locator('.filter-error mark').innerText()) !== '>') fail('the mark is not on ">"');
			await snap();
			await page.locator('#filter').fill('');
			await clickAndLoad(page, page.locator('form.filter button[type="submit"]'));
		},
	},
	{
		name: 'clicking the metrics.rmse header sorts ascending, clicking again descending',
		async run(snap) {
			const head = () => page.locator('table.runs thead a', { hasText: 'metrics.rmse' });
			await clickAndLoad(page, head());
			let names = await runNames(page);
			if (names.join() !== 'run-0,run-1,run-2,run-3') fail(`ascending: ${names}`);
			await clickAndLoad(page, head());
			names = await runNames(page);
			if (names.join() !== 'run-3,run-2,run-1,run-0') fail(`descending: ${names}`);
			await snap();
		},
	},
	{
		name: 'ticking two runs and "Compare selected" compares them with differences highlighted',
		async run(snap) {
			await page.locator('input[name="runs"][aria-label="Compare run-3"]').check();
			await page.locator('input[name="runs"][aria-label="Compare run-0"]').check();
			await clickAndLoad(page, page.getByRole('button', { name: 'Compare selected' }));
			if (new URL(page.url()).pathname !== '/compare') fail(`on ${page.url()}`);
			const h1 = (await page.locator('main h1').innerText()).trim();
			if (h1 !== 'Compare 2 runs') fail(`heading ${JSON.stringify(h1)}`);
			if (await page.locator('tr.differs').count() < 2) fail('no differing rows highlighted');
			for (const sel of ['svg.chart', 'svg.scatter', 'svg.parallel'])
				if (await page.locator(sel).count() < 1) fail(`no ${sel}`);
			await snap();
		},
	},
	{
		name: 'a run page links to its metric chart, drawn as SVG; log scale and smoothing redraw it',
		async run(snap) {
			await clickAndLoad(page, page.locator('table.compare thead a').first());
			await clickAndLoad(page, page.locator('table.metrics a', { hasText: 'rmse' }));
			if (!/\/metrics\/rmse$/.test(new URL(page.url()).pathname)) fail(`on ${page.url()}`);
			if (await page.locator('svg.chart path.line').count() !== 1) fail('no line drawn');
			await page.locator('input[name="log"]').check();
			await page.locator('input[name="smooth"]').fill('0.6');
			await clickAndLoad(page, page.getByRole('button', { name: 'Draw' }));
			const u = new URL(page.url());
			if (u.searchParams.get('log') !== '1' || u.searchParams.get('smooth') !== '0.6') fail(`URL ${u}`);
			if (await page.locator('svg.chart path.line').count() !== 1) fail('no line after redraw');
			await snap();
		},
	},
	{
		name: "a run page shows its start in the viewer's zone, with ISO 8601 and the offset in the tooltip",
		async run(snap) {
			await goto(page, `/runs/${firstRun}`);
			// 1700000000000 ms = 2023-11-14T22:13:20Z = 17:13:20 in New York (EST, -05:00)
			const t = page.locator('table.overview time').first();
			await page.waitForFunction(() => !/UTC$/.test(document.querySelector('table.overview time').textContent));
			if (await t.getAttribute('datetime') !== '2023-11-14T22:13:20Z') fail(`datetime ${await t.getAttribute('datetime')}`);
			if ((await t.innerText()).trim() !== '2023-11-14 17:13') fail(`the text reads ${JSON.stringify(await t.innerText())}`);
			if (await t.getAttribute('title') !== '2023-11-14T17:13:20-05:00') fail(`the title is ${await t.getAttribute('title')}`);
			// the artifact tree opens a directory without JavaScript's help: a plain link
			await clickAndLoad(page, page.locator('table.artifacts a', { hasText: 'model/' }));
			if (await page.locator('table.artifacts a', { hasText: 'notes.txt' }).count() !== 1) fail('model/notes.txt is not listed');
			await snap();
		},
	},
	{
		name: 'no unexpected HTTP errors in the browser (the bad filter answers 400 on purpose)',
		shot: false,
		async run() {
			const real = unexpected.filter((u) => !/^GET \/experiments\/\d+ -> 400$/.test(u));
			if (real.length) fail(real.join('; '));
		},
	},
];

function slug(s) {
	return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

async function screenshot(k, name) {
	if (!page || page.isClosed()) return;
	const file = join(ARTIFACTS, `browse-${String(k).padStart(2, '0')}-${slug(name)}.png`);
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
	let failed = 0;
	let broken = null;
	for (const [i, s] of steps.entries()) {
		const k = i + 1;
		if (broken) {
			console.log(`not ok ${k} - ${s.name}\n# not run: ${broken}`);
			failed++;
			continue;
		}
		const t0 = Date.now();
		let shot = false;
		const snap = async () => { shot = true; await screenshot(k, s.name); };
		try {
			await s.run(snap);
			console.log(`ok ${k} - ${s.name} (${Date.now() - t0} ms)`);
		} catch (e) {
			failed++;
			console.log(`not ok ${k} - ${s.name}`);
			for (const line of String(e?.message ?? e).replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => l.trim()).slice(0, 8))
				console.log(`# ${line}`);
			if (page) console.log(`# page: ${page.isClosed() ? '(closed)' : page.url()}`);
			if (!context) broken = 'chromium did not start or the data could not be logged';
			if (!shot) await screenshot(k, s.name);
		}
	}
	return failed ? 1 : 0;
}

const watchdog = setTimeout(() => {
	console.log('Bail out! browse.mjs took longer than 180 s');
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
