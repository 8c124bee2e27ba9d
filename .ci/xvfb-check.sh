#!/usr/bin/env bash
# The chat client in a real window, under Xvfb: start chat-server, a `chat-client --tty`
# listener and a `chat-client` window; type a line into the window with xdotool and press
# Return; check the listener receives it and the window's conversation pane shows it; take a
# screenshot into target/ci-artifacts/; press Esc and check the window client exits cleanly.
#
# Needs (Debian): xvfb xdotool imagemagick libx11-6 libxcursor1.
# Exits non-zero, printing the logs, on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

LIMIT=30 # seconds any one step may take
ART=target/ci-artifacts
WORK=$(mktemp -d)
mkdir -p "$ART"
PIDS=()

log() { echo "xvfb-check: $*"; }

cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    log "FAILED: $*"
    for f in "$WORK"/*.log "$WORK"/*.out; do
        [ -e "$f" ] && { echo "--- $f"; cat "$f"; }
    done
    exit 1
}

# Waits up to $LIMIT seconds for a command to succeed.
wait_until() {
    local what=$1
    shift
    local end=$((SECONDS + LIMIT))
    until "$@"; do
        [ "$SECONDS" -lt "$end" ] || fail "timed out waiting for $what"
        sleep 0.2
    done
}

# ImageMagick's convert (not a stand-in of the same name earlier on PATH).
CONVERT=$(command -v convert-im6.q16 || command -v magick || echo /usr/bin/convert)
for tool in Xvfb xdotool import "$CONVERT"; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (apt-get install xvfb xdotool imagemagick)"
done

log "building"
cargo build --quiet -p apps --bin chat-server --bin chat-client
BIN=target/debug

# Xvfb picks a free display itself and writes its number to fd 3.
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$WORK/display" 2>"$WORK/xvfb.log" &
PIDS+=($!)
wait_until "Xvfb to start" test -s "$WORK/display"
export DISPLAY=":$(head -n1 "$WORK/display")"
log "Xvfb on $DISPLAY"

"$BIN/chat-server" --port 0 >"$WORK/server.out" 2>"$WORK/server.log" &
PIDS+=($!)
SERVER_PID=$!
wait_until "the chat server's port" grep -q "running on port" "$WORK/server.out"
PORT=$(sed -n 's/^Chat server running on port \([0-9]*\)$/\1/p' "$WORK/server.out")
log "chat server on port $PORT"

# The listener: a terminal client fed from a FIFO held open, so its input stays open.
mkfifo "$WORK/tty.in"
"$BIN/chat-client" --tty --port "$PORT" <"$WORK/tty.in" >"$WORK/tty.out" 2>"$WORK/tty.log" &
PIDS+=($!)
TTY_PID=$!
exec 4>"$WORK/tty.in"
echo "hello from the listener" >&4
wait_until "the listener to join" grep -q "says hello from the listener" "$WORK/tty.out"

"$BIN/chat-client" --port "$PORT" >"$WORK/window.out" 2>"$WORK/window.log" &
PIDS+=($!)
WINDOW_PID=$!
wait_until "the chat window" xdotool search --name "Kamaelia chat: 127.0.0.1:$PORT" >/dev/null
WID=$(xdotool search --name "Kamaelia chat: 127.0.0.1:$PORT" | head -n1)
eval "$(xdotool getwindowgeometry --shell "$WID")" # X Y WIDTH HEIGHT
log "window $WID at $X,$Y, ${WIDTH}x$HEIGHT"

# With no window manager, keys go to the window under the pointer.
xdotool mousemove --window "$WID" 20 $((HEIGHT - 10))
xdotool windowfocus --sync "$WID" 2>/dev/null || true
LINE="typed into the window $$"
xdotool type --delay 30 "$LINE"
xdotool key Return

wait_until "the listener to receive the typed line" grep -q "says $LINE" "$WORK/tty.out"
log "the listener received: $(grep "says $LINE" "$WORK/tty.out")"
echo "and this is the listener's answer" >&4
wait_until "the answer to be broadcast" grep -q "says and this is the listener's answer" "$WORK/tty.out"
# Something typed but not sent yet, for the screenshot.
xdotool type --delay 30 "a draft"

# The conversation pane (the top 372 rows) shows black text once the broadcast is drawn.
conversation_has_text() {
    import -window root "$WORK/shot.png" 2>/dev/null || return 1
    local min
    min=$("$CONVERT" "$WORK/shot.png" -crop "${WIDTH}x372+${X}+${Y}" +repage -colorspace Gray \
        -format "%[fx:minima]" info: 2>/dev/null) || return 1
    awk -v m="$min" 'BEGIN { exit !(m < 0.1) }'
}
wait_until "the window to show the line" conversation_has_text
cp "$WORK/shot.png" "$ART/chat-client.png"
"$CONVERT" "$WORK/shot.png" -crop "${WIDTH}x${HEIGHT}+${X}+${Y}" +repage "$ART/chat-client-window.png"
log "screenshots: $ART/chat-client.png, $ART/chat-client-window.png"

# Esc in the input pane ends the window client, cleanly (the draft is not sent).
xdotool key Escape
wait_until "the window client to exit" bash -c "! kill -0 $WINDOW_PID 2>/dev/null"
wait "$WINDOW_PID" || fail "the window client exited with status $?"

exec 4>&- # end of the listener's input: it exits
wait_until "the listener to exit" bash -c "! kill -0 $TTY_PID 2>/dev/null"
kill -INT "$SERVER_PID"
wait "$SERVER_PID" || fail "the chat server exited with status $?"
log "ok"
