#!/usr/bin/env bash
# Regenerates www/sample/ (the viewer's committed sample folder) with a real etcd 3.4 server:
# a one-member cluster with --snapshot-count 100, Kubernetes-style keys with JSON values,
# history (updates, deletes, a compaction), a lease, binary values, a UTF-8 key and a hostile
# key `<img src=x onerror=alert(1)>`. Copies member/snap (the .snap files and the member db)
# and records etcd's own verdicts: `etcdctl snapshot status -w json` of the db, and the
# term/index etcd's snap names carry. Also saves tests/js/viewer/fixtures/snapshot-save.db
# (`etcdctl snapshot save`, with its status). Run by hand; the output is committed.
set -euo pipefail
cd "$(dirname "$0")/../../.."
OUT=www/sample
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cp_=$(port); pp=$(port)
ep="http://127.0.0.1:$cp_"
etcd --name sample --data-dir "$work/data" --snapshot-count 100 \
  --listen-client-urls "$ep" --advertise-client-urls "$ep" \
  --listen-peer-urls "http://127.0.0.1:$pp" --initial-advertise-peer-urls "http://127.0.0.1:$pp" \
  --initial-cluster "sample=http://127.0.0.1:$pp" >"$work/etcd.log" 2>&1 &
pid=$!
export ETCDCTL_API=3
ctl() { etcdctl --endpoints "$ep" --command-timeout=30s "$@" >/dev/null; }
for i in $(seq 1 100); do etcdctl --endpoints "$ep" endpoint health >/dev/null 2>&1 && break; sleep 0.2; done

lease=$(etcdctl --endpoints "$ep" lease grant 86400 | awk '{print $2}')
ctl put /registry/namespaces/default '{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"default"}}'
ctl put /registry/namespaces/kube-system '{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"kube-system"}}'
for i in $(seq 1 60); do
  ctl put "/registry/pods/default/web-$i" "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"web-$i\",\"namespace\":\"default\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\"}]},\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.$i\"}}"
done
for i in $(seq 1 25); do
  ctl put "/registry/configmaps/kube-system/cm-$i" "{\"kind\":\"ConfigMap\",\"data\":{\"config.yaml\":\"$(head -c 600 /dev/zero | tr '\0' 'x')\"}}"
done
for i in $(seq 1 15); do
  head -c 300 /dev/urandom | etcdctl --endpoints "$ep" put "/registry/secrets/default/token-$i" >/dev/null
done
for i in $(seq 1 20); do
  ctl put /registry/leases/kube-node-lease/node-1 "{\"renewTime\":\"2026-01-01T00:00:$((10 + i))Z\",\"holder\":\"node-1\"}"
done
for i in $(seq 1 8); do ctl put /app/config "{\"version\":$i,\"features\":{\"beta\":$([ $((i % 2)) = 0 ] && echo true || echo false)}}"; done
ctl put /app/feature-flags '{"darkMode":true}'
ctl put --lease="$lease" /app/session/abc123 'leased value'
ctl put 'ключ/юникод' 'значение'
ctl put '<img src=x onerror=alert(1)>' '<script>alert(2)</script>'
ctl put '/app/to-delete' 'short-lived'
ctl del '/app/to-delete'
for i in $(seq 21 40); do ctl del "/registry/pods/default/web-$i"; done
rev=$(etcdctl --endpoints "$ep" get /app/config -w json | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
ctl compact $((rev - 40))
for i in $(seq 61 300); do
  ctl put "/registry/events/default/web.$i" "{\"kind\":\"Event\",\"reason\":\"Scheduled\",\"message\":\"Successfully assigned default/web-$i\"}"
done
for i in $(seq 1 10); do ctl put /app/config "{\"version\":$((8 + i))}"; done

# An `etcdctl snapshot save` file (db + sha256 trailer) for the single-file tests.
FIX=tests/js/viewer/fixtures
mkdir -p "$FIX"
etcdctl --endpoints "$ep" snapshot save "$FIX/snapshot-save.db" >/dev/null
etcdctl snapshot status "$FIX/snapshot-save.db" -w json > "$FIX/snapshot-save.status.json"

kill "$pid"; wait "$pid" || true; pid=""
rm -rf "$OUT/member-snap"; mkdir -p "$OUT/member-snap"
cp "$work"/data/member/snap/*.snap "$work/data/member/snap/db" "$OUT/member-snap/"
etcdctl snapshot status "$OUT/member-snap/db" -w json > "$OUT/db.status.json"
(cd "$OUT/member-snap" && ls *.snap) > "$OUT/snaps.txt"
# The index the viewer fetches to open the sample folder.
python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
names = sorted(os.listdir(os.path.join(out, "member-snap")))
json.dump({"folder": "member-snap", "files": [{"name": n, "size": os.path.getsize(os.path.join(out, "member-snap", n))} for n in names]},
          open(os.path.join(out, "index.json"), "w"), indent=1)
PY
ls -la "$OUT" "$OUT/member-snap"; cat "$OUT/db.status.json"
