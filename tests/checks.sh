# Shell checks shared by the CLI and tools tests; source it, then exit non-zero if
# "$failures" is not 0 at the end.
failures=0

# fail <message>: counts one failed check.
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# expect <exit code> <text that must appear in stdout+stderr> -- command...
expect() {
    local code=$1 text=$2
    shift 3
    local out status
    out=$("$@" 2>&1)
    status=$?
    if [ "$status" -ne "$code" ] || [[ "$out" != *"$text"* ]]; then
        fail "$* -> exit $status (want $code), output:"
        echo "$out" | sed 's/^/    /'
        echo "    (wanted to see: $text)"
    fi
}

# refute <text that must not appear in stdout+stderr> -- command...
refute() {
    local text=$1
    shift 2
    local out
    out=$("$@" 2>&1)
    if [[ "$out" == *"$text"* ]]; then
        fail "$* printed what it must not: $text"
        echo "$out" | head -c 2000 | sed 's/^/    /'
    fi
}
