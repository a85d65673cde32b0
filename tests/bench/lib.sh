# lib.sh: what the benchmark scripts share (sourced, not run). The caller
# defines note/die, REPO, BENCH_SRC, BUILD; api/register also need URL, T, D,
# PY and (register) AUTH and sql.

# An out-of-tree, optimized build without sanitizers in $BUILD.
# automake refuses an out-of-tree build of a source tree configured in place;
# then build a copy of the sources git knows about (tar keeps mtimes, so later
# runs stay incremental). A lock keeps two benchmark runs from building at once.
build() {
	local src=$REPO rel
	mkdir -p "$BUILD"
	# A self-ignoring build directory: git status stays clean and the
	# source copy below never includes the build directory itself.
	[[ -f $BUILD/.gitignore ]] || echo '*' >"$BUILD/.gitignore"
	# The benchmarks share the build directory: one build at a time.
	exec 8>"$BUILD/.bench-lock"
	flock -w 900 8 || die "another benchmark holds $BUILD/.bench-lock"
	if [[ -f $REPO/config.status || -f $REPO/Makefile ]]; then
		git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1 ||
			die "$REPO is configured in place and is no git checkout: run 'make distclean' there"
		src=$BUILD/.src
		note "$REPO is configured in place; building a copy of its sources in $src"
		mkdir -p "$src"
		rel=${BUILD#"$REPO"/}
		(cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
			{ grep -zv "^${rel}/" || true; } |
			tar --null --no-recursion --ignore-failed-read -T - -cf - 2>/dev/null) |
			tar -C "$src" -xf - || die "copying the sources to $src failed"
	fi
	if [[ ! -x $src/configure || $src/configure.ac -nt $src/configure || $src/Makefile.am -nt $src/Makefile.in ]]; then
		note "autoreconf -fi in $src"
		(cd "$src" && autoreconf -fi >/dev/null 2>&1) || die "autoreconf -fi failed in $src"
	fi
	cd "$BUILD"
	# Start over when configured for another source tree, other CFLAGS or
	# with sanitizers (those numbers would be meaningless).
	if [[ -f Makefile ]] && { ! grep -qxF "abs_top_srcdir = $src" Makefile ||
		! grep -qxF 'CFLAGS = -O2 -g' Makefile || grep -q '^SANITIZER_FLAGS = .*sanitize' Makefile; }; then
		note "$BUILD was configured differently; reconfiguring"
		find . -mindepth 1 -maxdepth 1 ! -name .src ! -name .gitignore ! -name .bench-lock -exec rm -rf {} +
	fi
	if [[ ! -f Makefile ]]; then
		note "configuring $BUILD (CFLAGS='-O2 -g', no sanitizers)"
		"$src/configure" CFLAGS='-O2 -g' >"$BUILD/configure.out" 2>&1 ||
			{ tail -n 30 "$BUILD/configure.out" >&2; die "configure failed (see $BUILD/config.log)"; }
	fi
	note "make -j2 src/verdictd src/verdict"
	make -j2 src/verdictd src/verdict >"$BUILD/make.out" 2>&1 ||
		{ tail -n 40 "$BUILD/make.out" >&2; die "make failed (see $BUILD/make.out)"; }
	exec 8>&-
	cd "$REPO"
}

pid_of() { head -n1 "$1" 2>/dev/null | tr -dc '0-9'; }

# warm_up N CONNS PATH CURL_ARGS...: N unmeasured requests, CONNS at a
# time, with curl; fails on a non-2xx answer. (A wrk run whose threads all
# stop early still waits out its whole -d, so a wrk warm-up cost its limit.)
warm_up() {
	local n=$1 conns=$2 path=$3
	shift 3
	((n > 0)) || return 0
	seq "$n" | xargs -P "$conns" -I{} curl -sf --max-time 120 -o /dev/null "$@" "$URL$path" ||
		die "warm-up of $path: a request failed or answered non-2xx"
}

RESP=""
# api METHOD PATH EXPECTED_STATUS CURL_ARGS...: the body lands in $RESP.
api() {
	local method=$1 path=$2 want=$3 code
	shift 3
	code=$(curl -sS --max-time 120 -o "$T/resp" -w '%{http_code}' -X "$method" "$@" "$URL$path") || code=000
	RESP=$(cat "$T/resp" 2>/dev/null || true)
	[[ $code == "$want" ]] ||
		die "$method $path answered $code (expected $want): ${RESP:0:600} (verdictd logs: $D/log; BENCH_KEEP_DIR=1 keeps them)"
}
json_get() { # json_get KEY-PATH (python syntax, e.g. '["predictions"][0]["value"]') < JSON
	"$PY" -c 'import json, sys; v = eval("json.load(sys.stdin)" + sys.argv[1]); print(v if not isinstance(v, (dict, list)) else json.dumps(v))' "$1"
}

# register NAME BOOSTER SPEC -> VERSION, VERSION_ID (staged Production)
register() {
	local name=$1
	api POST /api/models 201 -H "$AUTH" -H 'Content-Type: application/json' -d "{\"name\":\"$name\"}"
	api POST "/api/models/$name/versions" 201 -H "$AUTH" \
		-F "booster=@$2;type=application/json" -F "spec=@$3;type=application/json"
	VERSION=$(json_get '["version"]' <<<"$RESP")
	api POST "/api/models/$name/versions/$VERSION/stage" 200 -H "$AUTH" -H 'Content-Type: application/json' \
		-d '{"stage":"Production"}'
	VERSION_ID=$(sql "SELECT id FROM model_versions WHERE name = '$name' AND version = $VERSION")
	[[ $VERSION_ID =~ ^[0-9]+$ ]] || die "no model_versions row for $name version $VERSION"
}
