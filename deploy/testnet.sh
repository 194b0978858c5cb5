#!/usr/bin/env bash
# A local Baton test network: N batond processes on loopback ports, or with
# --netns each in a network namespace of its own behind an emulated WAN.
#
#   deploy/testnet.sh up     --nodes N --dir D [--chain-id ID] [--empty-block-ms MS]
#                            [--idle-block-ms MS]
#                            [--names A,B,...] [--plan PLAN.json] [--store URI]
#                            [--store-endpoint URL] [--data SPLIT_DIR]
#                            [--torch-threads T] [--malicious NAME] [--overspend NAME]
#                            [--drop-out NAME]
#                            [--model-check-s S]
#                            [--agent-link http|https|unix] [--balance NAME=N ...]
#                            [--sponsor NAME] [--no-start]
#                            [--wan DELAY_MS[:JITTER_MS[:LOSS_PCT]]]
#                            [--wan-node NAME=DELAY_MS[:JITTER_MS[:LOSS_PCT]] ...]
#                            [--netns] [--max-block-txs N]
#   deploy/testnet.sh start     --dir D --node NAME [--only batond|agent]  # (re)start one node
#   deploy/testnet.sh start-all --dir D              # start every node that is not running
#   deploy/testnet.sh stop   --dir D --node NAME [--kill] [--only batond|agent]
#                                                    # SIGTERM (or SIGKILL)
#   deploy/testnet.sh down   --dir D [--kill]        # stop every node
#   deploy/testnet.sh status --dir D                 # one line per node: name, height, tip
#   deploy/testnet.sh wan    --dir D COMMAND...      # a baton-linkem control line
#                                                    # (status, cut, heal, set; see below)
#
# `up` makes keys (`baton keygen`), a genesis (`baton genesis init`; the first
# node is the admin), one node.toml per node with LAN-tuned timeouts, starts
# every node (unless --no-start), waits until each admin API answers, and
# writes D/nodes.json: a list of
#   {name, pid, admin_url, p2p_addr, data_dir, config,
#    agent_pid, agent_url, agent_config,   (agent_config "" without --data)
#    admin_cert_sha256}                    ("" unless --agent-link https)
# Node NAME lives in D/nodes/NAME: node.toml, batond.log, stdout.log, data/,
# admin.token (batond writes it) and, for a training node, agent.toml,
# agent.log and agent-stdout.log of its `baton-agent` (issue 12: the partner
# agent is a process of its own). start/stop act on both processes of a node
# (batond first, then its agent; stop: the agent first); --only picks one.
# Nodes are node1..nodeN unless --names names them (N = the number of names).
# A training network (issue 6):
#   --plan FILE     a training plan (docs/PROTOCOL.md §18.1) written into the
#                   genesis' training_plan, so that its run starts at block 1
#   --store URI     every node's [store] (file:///DIR, or s3://BUCKET/PREFIX
#                   with --store-endpoint URL; S3 credentials from the
#                   environment the nodes inherit)
#   --data DIR      DIR/NAME/{train,validation}.csv (as `baton data split`
#                   writes them) are copied into D/nodes/NAME/data/ and named
#                   in the [training] section of its agent.toml, and a
#                   baton-agent runs beside its batond (a node without
#                   DIR/NAME/ gets none: it validates but takes no part in
#                   runs);
#                   DIR/feature_schema.json, when present, becomes every
#                   node's agreed feature schema. When DIR/NAME/volumes/
#                   exists (`baton data synth-volumes`: the CSVs are manifests
#                   naming volumes relative to their own directory), all of
#                   DIR/NAME/ is copied, so that those paths stay valid
#   --torch-threads T  [training] torch_threads of every node (default 1:
#                   nodes on one machine share its cores)
#   --malicious N   node N trains on label-flipped data
#   --overspend N   node N ignores the plan's privacy budget: under DP-SGD it
#                   trains every epoch of the plan at every turn, and the
#                   ledger refuses its SaveRequest once that passes its
#                   budget (privacy_budget_exceeded; tests only)
#   --drop-out N    node N's agent takes no more part in a federated run once
#                   its first masked upload is on the ledger (a partner lost
#                   after masking; tests only)
#   --model-check-s S  [model_cache] check_interval_s of every training node
#                   (how often it checks the store's copies of the models it
#                   keeps; default the node's, 60)
#   --agent-link L  how each agent reaches its node's admin API (docs/
#                   OPERATIONS.md, "Admin API"): http (default, plain HTTP
#                   on loopback), https (every batond serves its admin API
#                   over TLS with the self-signed certificate it makes at
#                   its first start; admin_url is https://, and each agent
#                   pins the certificate: start fills node_cert_sha256 in
#                   agent.toml from the node's admin-tls.crt when it is
#                   empty, and admin_cert_sha256 in nodes.json), or unix
#                   (batond also serves it on D/nodes/NAME/admin.sock and
#                   the agent uses that socket; admin_url stays http)
#   --balance NAME=N  credits allocated to member NAME in the genesis (issue 13,
#                   docs/PROTOCOL.md "Accounts and escrow"); repeatable
#   --sponsor NAME  one more member, with keys in D/keys and role "sponsor"
#                   (power 0, no node, no data): it funds and releases runs
# Real-network conditions (issue 18), without kernel netem:
#   --wan D[:J[:L]]  one baton-linkem process (tools/linkem/main.cpp) relays
#                   every directed pair of nodes through a link "A>B" (A
#                   dials B) with D ms one-way delay, +-J ms jitter and L %
#                   loss (a lost chunk is delivered one TCP retransmission
#                   timeout late: 200 ms + the round trip), both directions
#                   of each connection; every node.toml gets [p2p.dial]
#                   entries pointing at its links. D/linkem.links lists the
#                   links, D/linkem.log is its output, D/linkem.control its
#                   control address. `down` stops it, `start`/`start-all`
#                   start it when it is not running.
#   --wan-node N=D[:J[:L]]  links to and from node N get this profile instead
#                   (a link between two such nodes: the one with more
#                   delay); implies linkem for every pair; repeatable
#   wan --dir D cut A>C C>A ...   closes those links' connections and refuses
#                   new ones (a partition); `heal NAME...|*` ends it;
#                   `set NAME...|* delay_ms=N [jitter_ms=N] [loss_pct=X]`
#                   changes links at run time; `status` lists every link
#   --netns         (root) each node's batond and agent run in a network
#                   namespace of their own, baton-T-I (T from D's path, I the
#                   node's number), whose only interface is a TUN device bt0
#                   at 10.77.0.I/24; the P2P addresses in the genesis are
#                   10.77.0.I:26656. One baton-linkem in packet mode (tools/
#                   linkem/packet_switch.h) joins the devices and applies the
#                   --wan/--wan-node profiles per packet: real loss that the
#                   nodes' TCP retransmits, and `wan cut` drops every packet
#                   (a true partition; connections stall, they are not
#                   closed). D/netns.ports lists the namespaces. admin_url is
#                   the node's admin socket (unix:D/nodes/NAME/admin.sock,
#                   reachable from the host; --agent-link is unix), agent_url
#                   is on the namespace's loopback. A store must be file://
#                   or an endpoint the namespaces reach. `down` deletes the
#                   namespaces; `start` makes them again.
#   --max-block-txs N  the genesis' consensus.max_block_txs (default 10000):
#                   smaller blocks for bulk load over lossy links
# Binaries come from $BATON_BIN_DIR (default: build/bin of this checkout).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BATON_BIN_DIR:-$ROOT/build/bin}"
BATON="$BIN/baton"
BATOND="$BIN/batond"
AGENT="$BIN/baton-agent"
LINKEM="$BIN/baton-linkem"

die() { echo "testnet.sh: $*" >&2; exit 1; }
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2; exit 2; }

cmd="${1:-}"; [[ -n "$cmd" && "$cmd" != -h && "$cmd" != --help ]] || usage; shift
NODES=""; DIR=""; NODE=""; CHAIN_ID="baton-testnet"; KILL=0; EMPTY_MS=1000; IDLE_MS=
NAMES=""; PLAN=""; STORE=""; STORE_ENDPOINT=""; DATA=""; MALICIOUS=""; OVERSPEND=""; DROP_OUT=""; START=1
TORCH_THREADS=1
MODEL_CHECK_S=""; ONLY=""; AGENT_LINK=http; BALANCES=(); SPONSOR=""
WAN=""; WAN_NODES=(); WAN_ARGS=(); NETNS=0; MAX_BLOCK_TXS=""
need() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --nodes) need "$@"; NODES="$2"; shift ;;
    --dir) need "$@"; DIR="$2"; shift ;;
    --node) need "$@"; NODE="$2"; shift ;;
    --chain-id) need "$@"; CHAIN_ID="$2"; shift ;;
    --empty-block-ms) need "$@"; EMPTY_MS="$2"; shift ;;
    --idle-block-ms) need "$@"; IDLE_MS="$2"; shift ;;
    --names) need "$@"; NAMES="$2"; shift ;;
    --plan) need "$@"; PLAN="$2"; shift ;;
    --store) need "$@"; STORE="$2"; shift ;;
    --store-endpoint) need "$@"; STORE_ENDPOINT="$2"; shift ;;
    --data) need "$@"; DATA="$2"; shift ;;
    --malicious) need "$@"; MALICIOUS="$2"; shift ;;
    --overspend) need "$@"; OVERSPEND="$2"; shift ;;
    --drop-out) need "$@"; DROP_OUT="$2"; shift ;;
    --torch-threads) need "$@"; TORCH_THREADS="$2"; shift ;;
    --model-check-s) need "$@"; MODEL_CHECK_S="$2"; shift ;;
    --only) need "$@"; ONLY="$2"; shift ;;
    --agent-link) need "$@"; AGENT_LINK="$2"; shift ;;
    --balance) need "$@"; BALANCES+=(--balance "$2"); shift ;;
    --sponsor) need "$@"; SPONSOR="$2"; shift ;;
    --netns) NETNS=1 ;;
    --max-block-txs) need "$@"; MAX_BLOCK_TXS="$2"; shift ;;
    --no-start) START=0 ;;
    --wan) need "$@"; WAN="$2"; shift ;;
    --wan-node) need "$@"; WAN_NODES+=("$2"); shift ;;
    --kill) KILL=1 ;;
    -h|--help) usage ;;
    *) [[ "$cmd" == wan ]] || die "unknown option $1 (see --help)"; WAN_ARGS+=("$1") ;;
  esac
  shift
done
[[ -n "$DIR" ]] || die "--dir is required"
[[ -z "$ONLY" || "$ONLY" == batond || "$ONLY" == agent ]] || die "--only takes batond or agent, got '$ONLY'"

# Free loopback TCP ports: bind port 0, read it back, close (all at once, so
# they are distinct).
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

nodes_json() { echo "$DIR/nodes.json"; }

# Prints one field of one node from nodes.json.
node_field() {
  python3 - "$(nodes_json)" "$1" "$2" <<'EOF'
import json, sys
for n in json.load(open(sys.argv[1])):
    if n["name"] == sys.argv[2]:
        print(n[sys.argv[3]]); break
else:
    sys.exit(1)
EOF
}

# Sets one field of one node in nodes.json (written atomically): a string,
# or a number with `int`.
set_field() {  # name field value [int]
  python3 - "$(nodes_json)" "$1" "$2" "$3" "${4:-str}" <<'EOF'
import json, os, sys
path, name, field, value, kind = sys.argv[1:6]
nodes = json.load(open(path))
for n in nodes:
    if n["name"] == name: n[field] = int(value) if kind == "int" else value
tmp = path + ".tmp"
json.dump(nodes, open(tmp, "w"), indent=2); os.replace(tmp, path)
EOF
}

# The SHA-256 of a PEM certificate's DER bytes: what clients pin.
cert_sha256() {  # cert.pem
  python3 -c 'import hashlib, ssl, sys; print(hashlib.sha256(ssl.PEM_cert_to_DER_cert(open(sys.argv[1]).read())).hexdigest())' "$1"
}

set_pid() {  # name pid [field]
  set_field "$1" "${3:-pid}" "$2" int
}

node_names() {
  python3 -c 'import json,sys; print(" ".join(n["name"] for n in json.load(open(sys.argv[1]))))' "$(nodes_json)"
}

# Running and not a zombie (an orphaned node may wait to be reaped).
alive() {
  [[ -n "$1" && "$1" != 0 ]] && kill -0 "$1" 2>/dev/null || return 1
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo Z)"
  [[ "$state" != Z ]]
}

# The node's namespace under --netns (from D/netns.ports), or nothing.
node_ns() {  # name
  [[ -f "$DIR/netns.ports" ]] || return 0
  awk -v n="$1" '$1 == n { sub(".*/", "", $2); print $2 }' "$DIR/netns.ports"
}

# The command prefix that runs a program in node $1's namespace under
# --netns (`ip netns exec NS`, which execs it: $! stays the program's pid),
# else nothing. Read it into an array: read -r -a pre <<<"$(ns_prefix N)".
ns_prefix() {  # name
  local ns; ns="$(node_ns "$1")"
  [[ -z "$ns" ]] || echo "ip netns exec $ns"
}

# GET URL/PATH of an admin API: http(s)://HOST:PORT or unix:/SOCKET.
admin_get() {  # url path [curl options...]
  local url="$1" path="$2"; shift 2
  if [[ "$url" == unix:* ]]; then
    curl -fsS --unix-socket "${url#unix:}" "$@" "http://localhost$path"
  else
    # -k: this probe sends no token and reads nothing; the tests and agents pin.
    local insecure=(); [[ "$url" == https://* ]] && insecure=(-k)
    curl -fsS "${insecure[@]}" "$@" "$url$path"
  fi
}

wait_admin() {  # url timeout_s pid [name: probe from its namespace]: 0 once it answers, 1 on timeout or when pid exits
  local deadline=$((SECONDS + $2)) ns_name="${4:-}"
  while (( SECONDS < deadline )); do
    if [[ -n "$ns_name" ]]; then
      local pre=(); read -r -a pre <<<"$(ns_prefix "$ns_name")"
      "${pre[@]}" curl -fsS -m 1 "$1/status" >/dev/null 2>&1 && return 0
    else
      admin_get "$1" /status -m 1 >/dev/null 2>&1 && return 0
    fi
    alive "$3" || return 1
    sleep 0.1
  done
  return 1
}

start_batond() {  # name
  local name="$1" pid config url ndir
  pid="$(node_field "$name" pid)" || die "no node named $name in $(nodes_json)"
  alive "$pid" && { echo "$name already runs (pid $pid)"; return 0; }
  config="$(node_field "$name" config)"
  url="$(node_field "$name" admin_url)"
  ndir="$(dirname "$config")"
  local pre=(); read -r -a pre <<<"$(ns_prefix "$name")"
  "${pre[@]}" "$BATOND" --config "$config" >>"$ndir/stdout.log" 2>&1 &
  pid=$!
  set_pid "$name" "$pid"
  if ! wait_admin "$url" 20 "$pid"; then
    tail -n 5 "$ndir/stdout.log" >&2 || true
    alive "$pid" || die "$name exited while starting (see $ndir/stdout.log and batond.log)"
    die "$name did not answer on $url within 20 s (see $ndir/stdout.log and batond.log)"
  fi
  if [[ "$url" == https://* ]]; then
    set_field "$name" admin_cert_sha256 "$(cert_sha256 "$ndir/admin-tls.crt")"
  fi
  echo "$name started (pid $pid, $url)"
}

# The node's baton-agent, when it has one (agent_config in nodes.json).
# It prints a line of its own only with --only agent: with its batond, the
# node's "NAME started" line stands for both (the demo's output is as it was
# before the agent became a process of its own; the agent's pid and URL are
# in nodes.json).
start_agent() {  # name
  local name="$1" pid config url ndir
  config="$(node_field "$name" agent_config)" || die "no node named $name in $(nodes_json)"
  [[ -n "$config" ]] || return 0
  pid="$(node_field "$name" agent_pid)"
  alive "$pid" && { echo "$name's agent already runs (pid $pid)"; return 0; }
  url="$(node_field "$name" agent_url)"
  ndir="$(dirname "$config")"
  if grep -q '^node_cert_sha256 = ""' "$config"; then
    # As an operator would: the fingerprint of the certificate batond made.
    [[ -f "$ndir/admin-tls.crt" ]] || die "$name has no admin-tls.crt yet to pin; start its batond first"
    sed -i "s/^node_cert_sha256 = \"\"/node_cert_sha256 = \"$(cert_sha256 "$ndir/admin-tls.crt")\"/" "$config"
  fi
  local pre=(); read -r -a pre <<<"$(ns_prefix "$name")"
  "${pre[@]}" "$AGENT" --config "$config" >>"$ndir/agent-stdout.log" 2>&1 &
  pid=$!
  set_pid "$name" "$pid" agent_pid
  # It waits for batond's admin token, then binds its own API.
  if ! wait_admin "$url" 90 "$pid" "$name"; then
    tail -n 5 "$ndir/agent-stdout.log" >&2 || true
    alive "$pid" || die "$name's agent exited while starting (see $ndir/agent-stdout.log and agent.log)"
    die "$name's agent did not answer on $url within 90 s (see $ndir/agent.log)"
  fi
  [[ "$ONLY" != agent ]] || echo "$name's agent started (pid $pid, $url)"
}

start_node() {  # name
  [[ "$ONLY" == agent ]] || start_batond "$1"
  [[ "$ONLY" == batond ]] || start_agent "$1"
}

stop_pid() {  # name field label
  local name="$1" field="$2" label="$3" pid
  pid="$(node_field "$name" "$field")" || die "no node named $name in $(nodes_json)"
  if ! alive "$pid"; then set_pid "$name" 0 "$field"; return 1; fi
  if [[ $KILL == 1 ]]; then
    kill -9 "$pid" 2>/dev/null || true
  else
    kill -TERM "$pid" 2>/dev/null || true
  fi
  # An agent may be in a training step; it stops after it (the journal keeps it safe).
  for _ in $(seq 1 300); do alive "$pid" || break; sleep 0.1; done
  alive "$pid" && { kill -9 "$pid" 2>/dev/null || true; echo "$label did not stop in 30 s; killed"; }
  set_pid "$name" 0 "$field"
  return 0
}

stop_node() {  # name
  local name="$1" stopped=0
  node_field "$name" pid >/dev/null || die "no node named $name in $(nodes_json)"
  if [[ "$ONLY" != batond && -n "$(node_field "$name" agent_config)" ]]; then
    stop_pid "$name" agent_pid "$name's agent" && { echo "$name's agent stopped"; stopped=1; }
  fi
  if [[ "$ONLY" != agent ]]; then
    stop_pid "$name" pid "$name" && { echo "$name stopped"; stopped=1; }
  fi
  [[ $stopped == 1 ]] || echo "$name is not running"
}

# Sets one field of the genesis (a dotted path, e.g. consensus.max_block_txs)
# to a JSON value read from a file, or given as text with `text`; written
# as `baton genesis init` writes it (2-space JSON), atomically.
set_genesis() {  # genesis field file|value [text]
  python3 - "$1" "$2" "$3" "${4:-file}" <<'EOF'
import json, os, sys
path, field, value, kind = sys.argv[1:5]
g = json.load(open(path))
*parents, last = field.split(".")
node = g
for p in parents:
    node = node[p]
node[last] = json.loads(value) if kind == "text" else json.load(open(value))
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(g, f, indent=2)
    f.write("\n")
os.replace(tmp, path)
EOF
}

# Writes node $1's agent.toml (directory $2; its node's admin API on port $3,
# its own on port $4) when --data has its files.
training_sections() {  # name node_dir admin_port agent_port
  local name="$1" ndir="$2" flip=false overspend=false drop_out=false f
  [[ -n "$DATA" ]] || return 0
  if [[ ! -d "$DATA/$name" ]]; then
    echo "testnet.sh: $DATA has no $name/; $name validates blocks but does not train or vote on models" >&2
    return 0
  fi
  for f in train.csv validation.csv; do
    [[ -f "$DATA/$name/$f" ]] || die "--data $DATA has no $name/$f"
  done
  if [[ -d "$DATA/$name/volumes" ]]; then
    # Manifests: their rows name files relative to the manifest's directory.
    cp -R "$DATA/$name/." "$ndir/data/"
  else
    cp "$DATA/$name/train.csv" "$DATA/$name/validation.csv" "$ndir/data/"
  fi
  [[ "$name" == "$MALICIOUS" ]] && flip=true
  [[ "$name" == "$OVERSPEND" ]] && overspend=true
  [[ "$name" == "$DROP_OUT" ]] && drop_out=true
  {
    echo "# Generated by deploy/testnet.sh; see deploy/agent.example.toml."
    echo "name = \"$name\""
    echo "key_file = \"../../keys/$name.key\""
    echo "genesis_file = \"../../genesis.json\""
    case "$AGENT_LINK" in
      http) echo "node_url = \"http://127.0.0.1:$3\"" ;;
      https) echo "node_url = \"https://127.0.0.1:$3\""
             echo "node_cert_sha256 = \"\"   # filled by testnet.sh start" ;;
      unix) echo "node_url = \"unix:$ndir/admin.sock\"" ;;
    esac
    echo "token_file = \"admin.token\""
    echo "admin_listen = \"127.0.0.1:$4\""
    echo "poll_ms = 100"
    echo "log_level = \"info\""
    echo "log_file = \"agent.log\""
    echo; echo "[store]"; echo "uri = \"$STORE\""
    [[ -z "$STORE_ENDPOINT" ]] || echo "endpoint = \"$STORE_ENDPOINT\""
    echo; echo "[training]"
    echo "work_dir = \"data/agent\""
    echo "train_csv = \"data/train.csv\""
    echo "validation_csv = \"data/validation.csv\""
    if [[ -f "$DATA/feature_schema.json" ]]; then
      cp "$DATA/feature_schema.json" "$ndir/data/feature_schema.json"
      echo "feature_schema = \"data/feature_schema.json\""
    fi
    echo "torch_threads = $TORCH_THREADS"
    echo "malicious_label_flip = $flip"
    echo "malicious_ignore_privacy_budget = $overspend"
    echo "test_drop_out_after_upload = $drop_out"
    if [[ -n "$MODEL_CHECK_S" ]]; then
      echo; echo "[model_cache]"
      echo "check_interval_s = $MODEL_CHECK_S"
    fi
  } >"$ndir/agent.toml"
}

# --- baton-linkem (--wan, --wan-node) ---

# "D[:J[:L]]" -> the settings of a linkem link line.
wan_profile() {
  local d j l
  IFS=: read -r d j l <<<"$1"
  [[ "$d" =~ ^[0-9]+$ && ( -z "$j" || "$j" =~ ^[0-9]+$ ) && ( -z "$l" || "$l" =~ ^[0-9]+(\.[0-9]{1,4})?$ ) ]] ||
    die "a WAN profile is DELAY_MS[:JITTER_MS[:LOSS_PCT]] (e.g. 20:5:1), got '$1'"
  echo "delay_ms=$d jitter_ms=${j:-0} loss_pct=${l:-0}"
}

# The profile of link A>B: --wan, or a --wan-node of A or B (the one with
# more delay when both have one). Reads wan_of (set by `up`).
pair_profile() {  # a b
  local spec="$WAN" n
  for n in "$1" "$2"; do
    if [[ -n "${wan_of[$n]:-}" && ( "$spec" == "$WAN" || ${wan_of[$n]%%:*} -gt ${spec%%:*} ) ]]; then
      spec="${wan_of[$n]}"
    fi
  done
  echo "$spec"
}

# Sends one control line to baton-linkem at $1 and prints its reply; fails
# when the reply ends in an error.
linkem_send() {  # host:port line
  python3 - "$1" "$2" <<'EOF'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall((sys.argv[2] + "\n").encode())
buf = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
    lines = buf.decode(errors="replace").split("\n")
    if any(l == "ok" or l.startswith("error: ") for l in lines[:-1]):
        break
out = buf.decode(errors="replace")
sys.stdout.write(out)
sys.exit(0 if out.rstrip("\n").split("\n")[-1] == "ok" else 1)
EOF
}

# --netns: each node's namespace with lo and its TUN device bt0 (made only
# when missing, so that `start` after `down` makes them again).
make_netns() {
  local name ns tun address
  while read -r name ns tun address; do
    ns="${ns##*/}"
    [[ -e "/run/netns/$ns" ]] && continue
    ip netns add "$ns" || die "cannot make the network namespace $ns (--netns needs root)"
    ip -n "$ns" link set lo up
    ip -n "$ns" tuntap add dev "$tun" mode tun
    ip -n "$ns" addr add "$address/24" dev "$tun"
    ip -n "$ns" link set "$tun" up
  done <"$DIR/netns.ports"
}

delete_netns() {
  [[ -f "$DIR/netns.ports" ]] || return 0
  local name ns rest
  while read -r name ns rest; do
    ns="${ns##*/}"
    [[ ! -e "/run/netns/$ns" ]] || ip netns del "$ns" || true
  done <"$DIR/netns.ports"
}

start_linkem() {
  [[ -f "$DIR/linkem.links" ]] || return 0
  local pid control mode=(--links "$DIR/linkem.links")
  pid="$(cat "$DIR/linkem.pid" 2>/dev/null || echo 0)"
  alive "$pid" && return 0
  [[ -x "$LINKEM" ]] || die "baton-linkem not found in $BIN; build it (ninja -C build baton-linkem)"
  if [[ -f "$DIR/netns.ports" ]]; then
    make_netns
    mode+=(--ports "$DIR/netns.ports")
  fi
  control="$(cat "$DIR/linkem.control")"
  "$LINKEM" "${mode[@]}" --control "$control" >>"$DIR/linkem.log" 2>&1 &
  pid=$!
  echo "$pid" >"$DIR/linkem.pid"
  for _ in $(seq 1 100); do
    if linkem_send "$control" status >/dev/null 2>&1; then
      echo "linkem started (pid $pid, control $control)"
      return 0
    fi
    alive "$pid" || break
    sleep 0.1
  done
  tail -n 5 "$DIR/linkem.log" >&2 || true
  die "baton-linkem did not start (see $DIR/linkem.log)"
}

stop_linkem() {
  [[ -f "$DIR/linkem.pid" ]] || return 0
  local pid
  pid="$(cat "$DIR/linkem.pid")"
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -9 "$pid" 2>/dev/null || true
    echo 0 >"$DIR/linkem.pid"
    echo "linkem stopped"
  fi
  delete_netns
}

case "$cmd" in
  up)
    if [[ -n "$NAMES" ]]; then
      IFS=',' read -r -a names <<<"$NAMES"
      [[ -z "$NODES" || "$NODES" == "${#names[@]}" ]] || die "--nodes $NODES does not match the ${#names[@]} names of --names"
      NODES="${#names[@]}"
    else
      [[ -n "$NODES" && "$NODES" -ge 1 ]] || die "--nodes N (N >= 1) is required"
      names=(); for i in $(seq 1 "$NODES"); do names+=("node$i"); done
    fi
    [[ -x "$BATON" && -x "$BATOND" ]] || die "baton/batond not found in $BIN; build first (deploy/bootstrap.sh) or set BATON_BIN_DIR"
    [[ -z "$DATA" || -x "$AGENT" ]] || die "baton-agent not found in $BIN; build first (deploy/bootstrap.sh) or set BATON_BIN_DIR"
    [[ -e "$DIR/nodes.json" ]] && die "$DIR already holds a testnet; run 'down' and remove it, or pick another --dir"
    [[ -z "$PLAN" || -f "$PLAN" ]] || die "--plan $PLAN is not a file"
    [[ -z "$DATA" || -d "$DATA" ]] || die "--data $DATA is not a directory"
    [[ -z "$DATA" || -n "$STORE" ]] || die "--data (training nodes) needs --store URI"
    [[ -z "$MODEL_CHECK_S" || "$MODEL_CHECK_S" =~ ^[1-9][0-9]*$ ]] || die "--model-check-s must be a positive number, got '$MODEL_CHECK_S'"
    [[ "$AGENT_LINK" =~ ^(http|https|unix)$ ]] || die "--agent-link takes http, https or unix, got '$AGENT_LINK'"
    [[ -z "$MAX_BLOCK_TXS" || "$MAX_BLOCK_TXS" =~ ^[1-9][0-9]{0,5}$ ]] || die "--max-block-txs must be a number from 1 to 999999, got '$MAX_BLOCK_TXS'"
    [[ "$TORCH_THREADS" =~ ^[1-9][0-9]*$ ]] || die "--torch-threads must be a positive number, got '$TORCH_THREADS'"
    if [[ -n "$MALICIOUS" ]]; then
      [[ -n "$DATA" ]] || die "--malicious needs --data"
      [[ " ${names[*]} " == *" $MALICIOUS "* ]] || die "--malicious $MALICIOUS is not one of the nodes (${names[*]})"
    fi
    if [[ -n "$OVERSPEND" ]]; then
      [[ -n "$DATA" ]] || die "--overspend needs --data"
      [[ " ${names[*]} " == *" $OVERSPEND "* ]] || die "--overspend $OVERSPEND is not one of the nodes (${names[*]})"
    fi
    if [[ -n "$DROP_OUT" ]]; then
      [[ -n "$DATA" ]] || die "--drop-out needs --data"
      [[ " ${names[*]} " == *" $DROP_OUT "* ]] || die "--drop-out $DROP_OUT is not one of the nodes (${names[*]})"
    fi
    if [[ $NETNS == 1 ]]; then
      [[ "$(id -u)" == 0 ]] || die "--netns needs root (it makes network namespaces and TUN devices)"
      [[ -c /dev/net/tun ]] || die "--netns needs /dev/net/tun (a kernel with TUN)"
      [[ "$NODES" -le 64 ]] || die "--netns takes at most 64 nodes"
      [[ "$AGENT_LINK" != https ]] || die "--netns serves each admin API on its unix socket; drop --agent-link https"
      AGENT_LINK=unix
      if [[ "$STORE_ENDPOINT" =~ ://(127\.|localhost|\[::1\]) ]]; then
        die "--netns: the nodes cannot reach the store endpoint $STORE_ENDPOINT (loopback of the host); use file:// or an address the namespaces reach"
      fi
    fi
    declare -A wan_of=()
    for w in ${WAN_NODES[@]+"${WAN_NODES[@]}"}; do
      [[ "$w" == *=* ]] || die "--wan-node takes NAME=DELAY_MS[:JITTER_MS[:LOSS_PCT]], got '$w'"
      [[ " ${names[*]} " == *" ${w%%=*} "* ]] || die "--wan-node ${w%%=*} is not one of the nodes (${names[*]})"
      wan_profile "${w#*=}" >/dev/null
      wan_of["${w%%=*}"]="${w#*=}"
    done
    [[ -n "$WAN" || ${#WAN_NODES[@]} -eq 0 ]] || WAN=0
    [[ -z "$WAN" ]] || wan_profile "$WAN" >/dev/null
    mkdir -p "$DIR/keys" "$DIR/nodes"
    DIR="$(cd "$DIR" && pwd)"
    [[ -z "$DATA" ]] || DATA="$(cd "$DATA" && pwd)"
    wan_ports=0; [[ -z "$WAN" ]] || wan_ports=$((NODES * (NODES - 1) + 1))
    [[ $NETNS == 0 ]] || wan_ports=1
    read -r -a ports <<<"$(free_ports $((3 * NODES + wan_ports)))"
    if [[ $NETNS == 1 ]]; then
      # One namespace per node, one packet-switch link per directed pair.
      echo "127.0.0.1:${ports[$((3 * NODES))]}" >"$DIR/linkem.control"
      tag="$(printf '%s' "$DIR" | sha256sum | cut -c1-8)"
      : >"$DIR/netns.ports.tmp"; : >"$DIR/linkem.links.tmp"
      for i in $(seq 1 "$NODES"); do
        a="${names[$((i - 1))]}"
        echo "$a /run/netns/baton-$tag-$i bt0 10.77.0.$i" >>"$DIR/netns.ports.tmp"
        for j in $(seq 1 "$NODES"); do
          [[ $i != "$j" && -n "$WAN" ]] || continue
          b="${names[$((j - 1))]}"
          echo "$a>$b $(wan_profile "$(pair_profile "$a" "$b")")" >>"$DIR/linkem.links.tmp"
        done
      done
      mv "$DIR/netns.ports.tmp" "$DIR/netns.ports"; mv "$DIR/linkem.links.tmp" "$DIR/linkem.links"
    elif [[ -n "$WAN" ]]; then
      # Link "A>B" (A dials B) listens on one port each; the last is the control's.
      echo "127.0.0.1:${ports[$((3 * NODES + wan_ports - 1))]}" >"$DIR/linkem.control"
      : >"$DIR/linkem.links.tmp"
      k=$((3 * NODES))
      for i in $(seq 1 "$NODES"); do
        for j in $(seq 1 "$NODES"); do
          [[ $i != "$j" ]] || continue
          a="${names[$((i - 1))]}"; b="${names[$((j - 1))]}"
          echo "$a>$b 127.0.0.1:${ports[$k]} 127.0.0.1:${ports[$((2 * j - 2))]} $(wan_profile "$(pair_profile "$a" "$b")")" >>"$DIR/linkem.links.tmp"
          k=$((k + 1))
        done
      done
      mv "$DIR/linkem.links.tmp" "$DIR/linkem.links"
    fi
    members=()
    for i in $(seq 1 "$NODES"); do
      name="${names[$((i - 1))]}"; p2p="127.0.0.1:${ports[$((2 * i - 2))]}"
      [[ $NETNS == 0 ]] || p2p="10.77.0.$i:26656"
      "$BATON" keygen --name "$name" --out "$DIR/keys" --p2p "$p2p" >/dev/null
      members+=(--member "$DIR/keys/$name.pub.json")
    done
    if [[ -n "$SPONSOR" ]]; then
      [[ " ${names[*]} " != *" $SPONSOR "* ]] || die "--sponsor $SPONSOR is also a node; a sponsor runs none"
      "$BATON" keygen --name "$SPONSOR" --out "$DIR/keys" >/dev/null
      members+=(--member "$DIR/keys/$SPONSOR.pub.json" --sponsor "$SPONSOR")
    fi
    "$BATON" genesis init --chain-id "$CHAIN_ID" "${members[@]}" --admin "${names[0]}" \
      ${BALANCES[@]+"${BALANCES[@]}"} --out "$DIR/genesis.json" >/dev/null
    [[ -z "$MAX_BLOCK_TXS" ]] || set_genesis "$DIR/genesis.json" consensus.max_block_txs "$MAX_BLOCK_TXS" text
    if [[ -n "$PLAN" ]]; then
      set_genesis "$DIR/genesis.json" training_plan "$PLAN"
      "$BATON" genesis validate "$DIR/genesis.json" >/dev/null || die "the genesis with the plan $PLAN does not validate (see above)"
    fi
    echo "[" >"$DIR/nodes.json.tmp"
    for i in $(seq 1 "$NODES"); do
      name="${names[$((i - 1))]}"; p2p_port="${ports[$((2 * i - 2))]}"; admin_port="${ports[$((2 * i - 1))]}"
      agent_port="${ports[$((2 * NODES + i - 1))]}"
      p2p_addr="127.0.0.1:$p2p_port"; [[ $NETNS == 0 ]] || p2p_addr="10.77.0.$i:26656"
      ndir="$DIR/nodes/$name"
      install -d -m 700 "$ndir/data"
      cat >"$ndir/node.toml" <<EOF
# Generated by deploy/testnet.sh; see deploy/node.example.toml.
name = "$name"
key_file = "../../keys/$name.key"
genesis_file = "../../genesis.json"
data_dir = "data"
p2p_listen = "$p2p_addr"
admin_listen = "127.0.0.1:$admin_port"
log_level = "info"
log_file = "batond.log"

[consensus]   # loopback: short timeouts
timeout_propose_ms = 300
timeout_prevote_ms = 200
timeout_precommit_ms = 200
timeout_delta_ms = 100
timeout_commit_ms = 0
empty_block_interval_ms = $EMPTY_MS
EOF
      # Without --idle-block-ms, batond's default (an empty block every 10
      # minutes while no run needs the block clock).
      if [[ -n $IDLE_MS ]]; then echo "idle_block_interval_ms = $IDLE_MS" >>"$ndir/node.toml"; fi
      case "$AGENT_LINK" in
        https) printf '\n[admin_api]\ntls = true\n' >>"$ndir/node.toml" ;;
        unix) printf '\n[admin_api]\nunix_socket = "admin.sock"\n' >>"$ndir/node.toml" ;;
      esac
      if [[ -n "$WAN" && $NETNS == 0 ]]; then
        # Every peer through its linkem link (node.toml's [p2p.dial]).
        printf '\n[p2p.dial]   # through baton-linkem (--wan)\n' >>"$ndir/node.toml"
        awk -v me="$name" '{ split($1, ab, ">"); if (ab[1] == me) printf "\"%s\" = \"%s\"\n", ab[2], $2 }' \
          "$DIR/linkem.links" >>"$ndir/node.toml"
      fi
      admin_url="http://127.0.0.1:$admin_port"
      [[ "$AGENT_LINK" != https ]] || admin_url="https://127.0.0.1:$admin_port"
      [[ $NETNS == 0 ]] || admin_url="unix:$ndir/admin.sock"
      training_sections "$name" "$ndir" "$admin_port" "$agent_port"
      agent_config=""; [[ -f "$ndir/agent.toml" ]] && agent_config="$ndir/agent.toml"
      sep=","; [[ $i == "$NODES" ]] && sep=""
      printf '  {"name": "%s", "pid": 0, "admin_url": "%s", "p2p_addr": "%s", "data_dir": "%s", "config": "%s", "agent_pid": 0, "agent_url": "http://127.0.0.1:%s", "agent_config": "%s", "admin_cert_sha256": ""}%s\n' \
        "$name" "$admin_url" "$p2p_addr" "$ndir/data" "$ndir/node.toml" "$agent_port" "$agent_config" "$sep" >>"$DIR/nodes.json.tmp"
    done
    echo "]" >>"$DIR/nodes.json.tmp"
    mv "$DIR/nodes.json.tmp" "$DIR/nodes.json"
    if [[ $START == 1 ]]; then
      # Every batond first (an agent waits for its node's token), then the agents.
      start_linkem
      for name in $(node_names); do start_batond "$name"; done
      for name in $(node_names); do start_agent "$name"; done
      echo "testnet of $NODES nodes is up; nodes: $DIR/nodes.json"
    else
      echo "testnet of $NODES nodes is ready (not started); nodes: $DIR/nodes.json"
    fi
    ;;
  start)
    [[ -n "$NODE" ]] || die "--node NAME is required"
    [[ -e "$(nodes_json)" ]] || die "no testnet in $DIR (run 'up' first)"
    start_linkem
    start_node "$NODE"
    ;;
  start-all)
    [[ -e "$(nodes_json)" ]] || die "no testnet in $DIR (run 'up' first)"
    start_linkem
    for name in $(node_names); do start_batond "$name"; done
    for name in $(node_names); do start_agent "$name"; done
    ;;
  stop)
    [[ -n "$NODE" ]] || die "--node NAME is required"
    [[ -e "$(nodes_json)" ]] || die "no testnet in $DIR"
    stop_node "$NODE"
    ;;
  down)
    [[ -e "$(nodes_json)" ]] || die "no testnet in $DIR"
    for name in $(node_names); do stop_node "$name"; done
    stop_linkem
    ;;
  wan)
    [[ -f "$DIR/linkem.control" ]] || die "the testnet in $DIR runs without --wan (no baton-linkem)"
    [[ ${#WAN_ARGS[@]} -gt 0 ]] || die "wan needs a command: status, cut NAME..., heal NAME...|*, set NAME...|* key=value..."
    linkem_send "$(cat "$DIR/linkem.control")" "${WAN_ARGS[*]}"
    ;;
  status)
    [[ -e "$(nodes_json)" ]] || die "no testnet in $DIR"
    for name in $(node_names); do
      url="$(node_field "$name" admin_url)"
      if out="$(admin_get "$url" /status -m 2 2>/dev/null)"; then
        python3 - "$name" "$out" <<'EOF'
import json, sys
j = json.loads(sys.argv[2])
up = sum(1 for p in j["peers"] if p["connected"])
print("%s height %d tip %s round %d peers %d/%d%s" % (sys.argv[1], j["height"], j["tip_hash"][:16], j["round"],
      up, len(j["peers"]), " HALTED" if j.get("halted") else ""))
EOF
      else
        echo "$name down"
      fi
    done
    ;;
  *) usage ;;
esac
