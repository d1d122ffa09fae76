perf_top() {
  if [[ -s $1 ]]; then
    { perf report -i "$1" --no-children --sort symbol --stdio -g none 2>/dev/null || true; } \
      | grep -v '^#' | grep -v '^[[:space:]]*$' | head -12 >"$2" || true
  fi
  if [[ ! -s $2 ]]; then
    echo "perf recorded nothing: $(tail -1 "$1.log" 2>/dev/null)" >"$2"
  fi
  if [[ -n $PERF_KEEP && -s $1 ]]; then
    mkdir -p "$PERF_KEEP" && cp "$1" "$PERF_KEEP/" || true
  fi
}
