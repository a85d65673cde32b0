// time.js: every <time datetime="...Z"> on a page is shown in the viewer's
// own time zone ("2026-11-23 10:04"), with the full ISO 8601 time and the
// viewer's UTC offset in its tooltip ("2026-11-23T10:04:05-05:00").
// Without JavaScript the server's text stays: the UTC time, saying "UTC".
'use strict';

(function () {
	function pad(n) {
		return String(n).padStart(2, '0');
	}

	// "+01:00" for a Date's local offset (getTimezoneOffset is minutes west of UTC).
	function offset(d) {
		const west = d.getTimezoneOffset();
		const m = Math.abs(west);
		return (west > 0 ? '-' : '+') + pad(Math.floor(m / 60)) + ':' + pad(m % 60);
	}

	function localize(el) {
		const iso = el.getAttribute('datetime');
		if (!iso || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(iso)) return;
		const d = new Date(iso);
		if (isNaN(d.getTime())) return;
		const day = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
		const hm = pad(d.getHours()) + ':' + pad(d.getMinutes());
		el.textContent = day + ' ' + hm;
		el.title = day + 'T' + hm + ':' + pad(d.getSeconds()) + offset(d);
	}

	function run() {
		document.querySelectorAll('time[datetime]').forEach(localize);
	}

	if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run);
	else run();
})();
