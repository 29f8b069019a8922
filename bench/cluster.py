"""More users than one server holds, on one machine: a private PostgreSQL primary and hot standby,
app replicas behind nginx, scripted users through nginx, and a replica killed mid-run.

python -m bench.cluster [--scale 0.3] [--sessions 20,60,120] [--replicas 1,3] [--rounds 2]
                        [--think 5-15] [--dir DIR] [--keep]

1. A primary (initdb, its own port and socket; the shared server on 5432 is not touched), seeded
   with the demo scenario at --scale, and a hot standby made from it with pg_basebackup, streaming.
2. Three Streamlit replicas (`dashboard/server.py`): DATABASE_URL the primary (sessions, audit,
   users, imports, subscriptions), READ_DATABASE_URL the standby (every figure), PULSE_TRUSTED_PROXY=1.
3. nginx (Debian's; `apt-get install nginx`) in front: WebSocket upgrade, sticky by the session
   cookie (`hash $cookie_pulse_session consistent`), the next replica when one does not answer.
4. For each replica count and number of sessions: that many scripted users at once through nginx,
   each signed in by its own session cookie (the token a browser would hold), visiting every data
   page with random filters (bench.pages' distribution) with think times between: p50/p95 per
   page and the runs that failed.
5. Recovery: with three replicas, one is killed (SIGKILL) while the sessions run; a session whose
   socket closes reconnects through nginx with its cookie; it counts as recovered when its next
   page runs to the end signed in (no sign-in form).
6. The read/write split on the real standby: a write through the standby fails, through the
   primary succeeds; the standby's replay lag is printed.

Everything started is stopped at the end (--keep leaves the databases' folder). Prints the tables
and writes bench/cluster_results.json. Asserts nothing. As root, PostgreSQL runs as the `postgres`
system user (initdb refuses root).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import pwd
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("cluster_results.json")
PAGES = ["", "topics", "territories", "executors", "speed", "cases"]
USER = "bench"
AS_OF = "2026-11-29T05:00:00+00:00"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / name).exists():
            return str(folder / name)
    raise SystemExit(f"{name} not found (Debian's postgresql package)")


def _as_postgres() -> dict:
    """subprocess arguments that run a PostgreSQL tool as the `postgres` user when we are root."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam("postgres")
    return {"user": user.pw_uid, "group": user.pw_gid}


@dataclass
class Cluster:
    folder: Path
    primary_port: int = field(default_factory=_free_port)
    standby_port: int = field(default_factory=_free_port)
    procs: list = field(default_factory=list)

    def url(self, which: str = "primary", db: str = "pulse") -> str:
        port = self.primary_port if which == "primary" else self.standby_port
        return f"postgresql://postgres@127.0.0.1:{port}/{db}"

    def _run(self, *args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, **_as_postgres())

    def start_databases(self) -> None:
        primary = self.folder / "primary"
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(_pg_bin("initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        with open(primary / "postgresql.conf", "a") as fh:
            fh.write(f"\nport = {self.primary_port}\nlisten_addresses = '127.0.0.1'\n"
                     f"unix_socket_directories = '{self.folder}'\nwal_level = replica\nmax_wal_senders = 5\n"
                     "hot_standby = on\nshared_buffers = 256MB\nmax_connections = 300\n"
                     # a standby query is not cancelled by the cleanup it is still reading around
                     "hot_standby_feedback = on\n")
        with open(primary / "pg_hba.conf", "a") as fh:
            fh.write("host replication all 127.0.0.1/32 trust\n")
        self._run(_pg_bin("pg_ctl"), "-D", str(primary), "-l", str(self.folder / "primary.log"), "-w", "start")
        self._run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres", "pulse")

    def start_standby(self) -> None:
        standby = self.folder / "standby"
        # an immediate checkpoint: a spread one (the default) waited minutes after the seed's writes
        self._run(_pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
                  "-D", str(standby), "-R", "-X", "stream", "-c", "fast")
        with open(standby / "postgresql.auto.conf", "a") as fh:
            fh.write(f"\nport = {self.standby_port}\n")
        self._run(_pg_bin("pg_ctl"), "-D", str(standby), "-l", str(self.folder / "standby.log"), "-w", "start")

    def stop_databases(self) -> None:
        for name in ("standby", "primary"):
            if (self.folder / name / "postmaster.pid").exists():
                subprocess.run([_pg_bin("pg_ctl"), "-D", str(self.folder / name), "-m", "fast", "-w", "stop"],
                               capture_output=True, **_as_postgres())


def seed(cluster: Cluster, scale: float) -> None:
    subprocess.run([sys.executable, "-m", "seed", "--db", cluster.url(), "--scale", str(scale), "--seed", "4242",
                    "--until", AS_OF[:10]], check=True, cwd=ROOT, capture_output=True)
    from queries.db import make_engine
    from queries.users import add_user
    engine = make_engine(cluster.url())
    with engine.begin() as conn:
        add_user(conn, USER, "bench-password", "analyst")
    engine.dispose()


def tokens(url: str, n: int) -> list[str]:
    """n live sessions of the bench user, as n browsers would hold them after signing in."""
    from queries import sessions
    from queries.db import make_engine
    engine = make_engine(url)
    out = []
    with engine.begin() as conn:
        for i in range(n):
            _, ticket = sessions.start(conn, USER, f"10.0.{i // 250}.{i % 250}")
            out.append(sessions.exchange(conn, ticket)[0])
    engine.dispose()
    return out


def start_replica(cluster: Cluster, port: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=cluster.url(), READ_DATABASE_URL=cluster.url("standby"),
               PULSE_AS_OF=AS_OF, PULSE_TRUSTED_PROXY="1")
    return subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "server.py"),
                             "--server.port", str(port), "--server.headless", "true", "--server.address", "127.0.0.1",
                             "--server.enableXsrfProtection", "false", "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def wait_http(url: str, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


NGINX = """worker_processes 2;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {folder}/nginx-body; proxy_temp_path {folder}/nginx-proxy;
  fastcgi_temp_path {folder}/nginx-fcgi; uwsgi_temp_path {folder}/nginx-uwsgi; scgi_temp_path {folder}/nginx-scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  upstream pulse {{
    hash $cookie_pulse_session consistent;
{servers}
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://pulse;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 1h;
      proxy_next_upstream error timeout http_502;
      proxy_connect_timeout 2s;
    }}
  }}
}}
"""


def write_nginx(folder: Path, port: int, replica_ports: list[int]) -> Path:
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in replica_ports)
    conf = folder / "nginx.conf"
    conf.write_text(NGINX.format(folder=folder, port=port, servers=servers))
    return conf


def start_nginx(folder: Path, conf: Path) -> subprocess.Popen:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise SystemExit("nginx not found: apt-get install nginx")
    return subprocess.Popen([nginx, "-p", str(folder), "-c", str(conf), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class User:
    """One browser tab through nginx: its session cookie, a websocket, page runs."""

    def __init__(self, base_ws: str, token: str):
        self.base_ws, self.token = base_ws, token
        self.ws = None

    async def connect(self) -> None:
        import websockets
        self.ws = await websockets.connect(self.base_ws, subprotocols=["streamlit"], max_size=None, open_timeout=60,
                                           additional_headers={"Cookie": f"pulse_session={self.token}"})

    async def run(self, page: str, query: str) -> tuple[bool, bool]:
        """(finished normally, signed in) for one run of `page`."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = page
        await self.ws.send(msg.SerializeToString())
        signed_in = True
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await asyncio.wait_for(self.ws.recv(), 120))
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                el = fwd.delta.new_element
                sub = getattr(el, el.WhichOneof("type"))
                if getattr(sub, "label", "") == "Пароль":
                    signed_in = False
            elif kind == "script_finished":
                if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                return fwd.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY, signed_in


@dataclass
class Tally:
    timings: dict = field(default_factory=dict)
    failed: int = 0
    dropped: int = 0        # sockets that closed under a session (its replica died)
    recovered: int = 0      # …and whose next page ran signed in through another replica
    lost: int = 0           # …and whose next page did not
    unopened: int = 0       # sessions whose socket did not open within a minute


async def _session(base_ws: str, token: str, seed: int, rounds: int, think, codes, today, tally: Tally) -> None:
    from bench.pages import random_filters
    from dashboard.urlstate import to_params
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, think[1]))
    user = User(base_ws, token)
    try:
        await user.connect()
    except Exception:  # an overloaded server that does not even open the socket: a failed session
        tally.failed += 1
        tally.unopened += 1
        return
    reconnecting = False
    try:
        for _ in range(rounds):
            for page in PAGES:
                query = urlencode(to_params(random_filters(rng, today, codes)))
                started = time.perf_counter()
                try:
                    ok, signed_in = await user.run(page, query)
                except Exception:  # the socket closed: the replica behind it is gone
                    if reconnecting:
                        tally.lost += 1
                        return
                    tally.dropped += 1
                    reconnecting = True
                    try:
                        await user.connect()
                        ok, signed_in = await user.run(page, query)
                    except Exception:
                        tally.lost += 1
                        return
                    if ok and signed_in:
                        tally.recovered += 1
                    else:
                        tally.lost += 1
                    reconnecting = False
                    continue
                tally.timings.setdefault(page or "overview", []).append(time.perf_counter() - started)
                if not ok or not signed_in:
                    tally.failed += 1
                await asyncio.sleep(rng.uniform(*think))
    finally:
        await user.ws.close()


async def _load(base_ws: str, session_tokens: list[str], rounds: int, think, codes, today,
                kill=None) -> Tally:
    tally = Tally()
    tasks = [_session(base_ws, tok, i, rounds, think, codes, today, tally) for i, tok in enumerate(session_tokens)]
    if kill is not None:
        async def killer():
            await asyncio.sleep(kill[0])
            kill[1]()
        tasks.append(killer())
    await asyncio.gather(*tasks)
    return tally


def summarize(tally: Tally) -> dict:
    from bench.pages import p95
    pages = {p: {"visits": len(v), "p50_ms": round(statistics.median(v) * 1000), "p95_ms": round(p95(v) * 1000)}
             for p, v in sorted(tally.timings.items())}
    every = [x for v in tally.timings.values() for x in v]
    return {"pages": pages, "p50_ms": round(statistics.median(every) * 1000) if every else None,
            "p95_ms": round(p95(every) * 1000) if every else None, "failed": tally.failed,
            "dropped": tally.dropped, "recovered": tally.recovered, "lost": tally.lost, "unopened": tally.unopened}


def split_check(cluster: Cluster) -> dict:
    """A write through the standby fails; through the primary it succeeds; the standby's lag."""
    from sqlalchemy import text

    from queries.db import make_engine as create_engine
    out = {}
    for which in ("standby", "primary"):
        engine = create_engine(cluster.url(which))
        try:
            with engine.begin() as conn:
                conn.execute(text("create table if not exists bench_split_probe (x int)"))
            out[f"write_{which}"] = "accepted"
        except Exception as exc:
            out[f"write_{which}"] = f"refused: {str(getattr(exc, 'orig', exc)).splitlines()[0]}"
        finally:
            engine.dispose()
    from queries.replica import read_state
    engine = create_engine(cluster.url("standby"))
    with engine.connect() as conn:
        state = read_state(conn)
        out["standby_in_recovery"] = state.standby
        # None: it has replayed all it received (the primary's last write is there)
        out["standby_behind_since"] = state.replayed_at.isoformat() if state.replayed_at else None
    engine.dispose()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=0.3)
    p.add_argument("--sessions", default="20,60,120")
    p.add_argument("--replicas", default="1,3")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--think", default="5-15", help="seconds between a session's pages, min-max (bench.server's)")
    p.add_argument("--kill-after", type=float, default=8.0, help="seconds into the recovery run")
    p.add_argument("--dir", type=Path)
    p.add_argument("--keep", action="store_true")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    think = tuple(float(x) for x in args.think.split("-"))
    counts = [int(x) for x in args.sessions.split(",")]
    replica_counts = [int(x) for x in args.replicas.split(",")]
    folder = args.dir or Path(tempfile.mkdtemp(prefix="pulse-cluster-"))
    cluster = Cluster(folder)
    replicas: list[subprocess.Popen] = []
    nginx = None
    results: dict = {"machine": {"cores": os.cpu_count()}, "scale": args.scale, "runs": []}
    try:
        print(f"primary :{cluster.primary_port}, standby :{cluster.standby_port}, folder {folder}", file=sys.stderr)
        cluster.start_databases()
        seed(cluster, args.scale)
        cluster.start_standby()
        time.sleep(2)
        results["split"] = split_check(cluster)
        ports = [_free_port() for _ in range(max(replica_counts))]
        replicas = [start_replica(cluster, port) for port in ports]
        for port in ports:
            wait_http(f"http://127.0.0.1:{port}/_stcore/health")
        nginx_port = _free_port()
        from bench.pages import filter_pool
        from queries.db import make_engine
        engine = make_engine(cluster.url("standby"))
        codes, _, today = filter_pool(engine)
        engine.dispose()
        base_ws = f"ws://127.0.0.1:{nginx_port}/_stcore/stream"
        for n_replicas in replica_counts:
            conf = write_nginx(folder, nginx_port, ports[:n_replicas])
            nginx = start_nginx(folder, conf)
            wait_http(f"http://127.0.0.1:{nginx_port}/_stcore/health")
            asyncio.run(_load(base_ws, tokens(cluster.url(), 1), 1, (0.0, 0.0), codes, today))  # warm every replica once
            for n in counts:
                tally = asyncio.run(_load(base_ws, tokens(cluster.url(), n), args.rounds, think, codes, today))
                row = {"replicas": n_replicas, "sessions": n, **summarize(tally)}
                results["runs"].append(row)
                print(f"{n_replicas} replica(s), {n:>3} sessions: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, "
                      f"failed {row['failed']}", file=sys.stderr, flush=True)
            nginx.terminate()
            nginx.wait(timeout=20)
            nginx = None
        # recovery: three replicas (or the most asked for), one killed mid-run
        n_replicas = max(replica_counts)
        conf = write_nginx(folder, nginx_port, ports[:n_replicas])
        nginx = start_nginx(folder, conf)
        wait_http(f"http://127.0.0.1:{nginx_port}/_stcore/health")
        victim = replicas[0]
        tally = asyncio.run(_load(base_ws, tokens(cluster.url(), counts[0]), args.rounds, think, codes, today,
                                  kill=(args.kill_after, lambda: os.killpg(victim.pid, signal.SIGKILL))))
        results["recovery"] = {"replicas": n_replicas, "sessions": counts[0], **summarize(tally)}
    finally:
        if nginx is not None:
            nginx.terminate()
        for proc in replicas:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in replicas:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        cluster.stop_databases()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print_tables(results)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


def print_tables(results: dict) -> None:
    print(f"read/write split on the real standby: {results.get('split')}")
    print(f"\n{'replicas':>8} {'sessions':>8} {'p50 ms':>7} {'p95 ms':>7} {'failed':>6}   p95 per page (ms)")
    for r in results["runs"]:
        pages = ", ".join(f"{k} {v['p95_ms']}" for k, v in r["pages"].items())
        print(f"{r['replicas']:>8} {r['sessions']:>8} {str(r['p50_ms']):>7} {str(r['p95_ms']):>7} {r['failed']:>6}   {pages}")
    rec = results.get("recovery")
    if rec:
        print(f"\nreplica killed mid-run ({rec['replicas']} replicas, {rec['sessions']} sessions): "
              f"{rec['dropped']} sessions dropped, {rec['recovered']} recovered signed in, {rec['lost']} lost; "
              f"p95 {rec['p95_ms']} ms, failed {rec['failed']}")


if __name__ == "__main__":
    sys.exit(main())
