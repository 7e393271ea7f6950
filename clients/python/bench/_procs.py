"""The servers a benchmark runs beside: losswatch (the packaged jar), Debian's Pushgateway and Prometheus, each on
a free loopback port with its own temporary folder, stopped when the benchmark ends."""

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))

_procs = []
_dirs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
    for d in _dirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _tmp(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    _dirs.append(d)
    return d


def _wait(url, proc, what, seconds=60):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit("%s exited with %s" % (what, proc.returncode))
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("%s did not answer at %s" % (what, url))


def losswatch(jar=None):
    """Starts the packaged server (mvn -B package -DskipTests first); returns its base url."""
    jar = jar or os.path.join(ROOT, "target", "losswatch.jar")
    if not os.path.exists(jar):
        raise SystemExit("no %s: run mvn -B package -DskipTests first" % jar)
    port = free_port()
    log = open(os.path.join(_tmp("losswatch-bench-log-"), "server.log"), "w")
    p = subprocess.Popen(["java", "-jar", jar, "--port", str(port), "--demo", "none", "--data-dir",
                          _tmp("losswatch-bench-data-")], stdout=log, stderr=subprocess.STDOUT)
    _procs.append(p)
    url = "http://127.0.0.1:%d" % port
    _wait(url + "/health", p, "losswatch")
    return url


def pushgateway():
    """Starts Debian's prometheus-pushgateway; returns its host:port."""
    exe = shutil.which("prometheus-pushgateway") or "/usr/bin/prometheus-pushgateway"
    if not os.path.exists(exe):
        raise SystemExit("no prometheus-pushgateway (apt-get install prometheus-pushgateway)")
    port = free_port()
    p = subprocess.Popen([exe, "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _procs.append(p)
    _wait("http://127.0.0.1:%d/-/ready" % port, p, "pushgateway")
    return "127.0.0.1:%d" % port


def prometheus(targets, scrape_interval="5s"):
    """Starts Debian's Prometheus scraping ``targets`` (host:port, as a job honouring pushed labels); returns its
    base url."""
    exe = "/usr/bin/prometheus"
    if not os.path.exists(exe):
        raise SystemExit("no prometheus (apt-get install prometheus)")
    d = _tmp("losswatch-bench-prometheus-")
    config = os.path.join(d, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: %s\nscrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n"
                "    static_configs:\n      - targets: [%s]\n" % (scrape_interval, ", ".join('"%s"' % t for t in targets)))
    port = free_port()
    p = subprocess.Popen([exe, "--config.file=" + config, "--storage.tsdb.path=" + os.path.join(d, "data"),
                          "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _procs.append(p)
    url = "http://127.0.0.1:%d" % port
    _wait(url + "/-/ready", p, "prometheus")
    return url


def machine():
    """What the numbers were measured on, for the table's caption."""
    import platform
    load = os.getloadavg()
    return "Python %s (%s), %d cores, load %.2f %.2f %.2f" % (platform.python_version(), sys.executable,
                                                              os.cpu_count(), *load)
