"""benchlib: what bench/run and bench/compare share.

Starting an nsqd (ours or the original Go one: both take the same flags) on free loopback ports
with a temp data dir, reading its CPU time and peak RSS from /proc, its HTTP API (topic/channel
create, /stats), and driving the two load generators: ours (nsq_bench, one JSON line per run)
and the original's bench_writer/bench_reader (Go; they log one "duration: ... ops/s" line).
Nothing here asserts a timing.
"""
import json, os, random, re, shutil, socket, statistics, subprocess, tempfile, time, urllib.parse, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(build_dir, targets=("nsqd", "nsq_bench"), build_type="Release"):
    """Configures build_dir (Release, no tests) if needed and builds just `targets`."""
    launcher = ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"] if shutil.which("ccache") else []
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        subprocess.run(["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=" + build_type,
                        "-DBUILD_TESTING=OFF", "-DNSQ_BUILD_BENCH=ON", *launcher], check=True,
                       stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build_dir, "-j2", *sum((["--target", t] for t in targets), [])],
                   check=True, stdout=subprocess.DEVNULL)


_handed_out = set()
_draw = []  # free_port's range to draw from, read once: [(low, high)] or [None]


def free_port():
    """A loopback port free a moment ago, outside the kernel's ephemeral range (below it, or
    above it where it starts too low; no connect() or bind(0) takes it meanwhile), never one
    this process handed out before (bind(0) may offer the port it just closed again: a server's
    TCP and HTTP ports came out equal). Only where the range leaves no room does bind(0) pick."""
    if not _draw:
        try:
            with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
                low, high = (int(x) for x in f.read().split()[:2])
        except (OSError, ValueError):
            low, high = 32768, 60999
        if low - 10000 >= 1000:
            _draw.append((10000, low - 1))
        elif 65535 - high >= 1000:
            _draw.append((high + 1, 65535))
        else:
            _draw.append(None)
    draw = _draw[0]
    for _ in range(10000):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", random.randint(*draw) if draw else 0))
            port = s.getsockname()[1]
        except OSError:
            continue
        finally:
            s.close()
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("free_port: no free loopback port found")


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d never opened" % port)


def cpu_busy(window=0.5):
    """The share of all cores busy over the next `window` seconds (from /proc/stat; 0-1)."""
    def sample():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]), idle  # user..steal; guest time is already in user
    t0, i0 = sample()
    time.sleep(window)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(t1 - t0, 1)


def wait_quiet(busy_below=0.1, timeout=20.0, window=0.5):
    """Waits until the cores are less than `busy_below` busy over a `window` (the kernel's own
    work after a run: freeing deleted files, writeback, giving memory back to the host).
    Returns the last share measured (above the bound if `timeout` passed first)."""
    deadline = time.monotonic() + timeout
    while True:
        busy = cpu_busy(window)
        if busy < busy_below or time.monotonic() >= deadline:
            return busy


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


class Server:
    """An nsqd binary (ours or the original) on loopback TCP + HTTP ports and a temp data dir,
    or, with relay=True, `binary` is nsq_bench and runs as the raw loopback relay (TCP only)."""

    def __init__(self, binary, *args, relay=False):
        self.port = free_port()
        self.http_port = None
        self.dir = tempfile.mkdtemp(prefix="nsqbench.")
        if relay:
            cmd = [binary, "relay", "--tcp-address=127.0.0.1:%d" % self.port]
        else:
            self.http_port = free_port()
            cmd = [binary, "--tcp-address=127.0.0.1:%d" % self.port,
                   "--http-address=127.0.0.1:%d" % self.http_port,
                   "--data-path=" + self.dir, "--log-level=warn", *args]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        try:
            wait_port(self.port)
            if self.http_port:
                wait_port(self.http_port)
        except RuntimeError:
            self.stop()
            raise
        self.addr = "127.0.0.1:%d" % self.port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _status_mib(self, key):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
        return 0.0

    def rss_peak_mib(self):
        return self._status_mib("VmHWM")

    def rss_mib(self):
        return self._status_mib("VmRSS")

    def http(self, method, path, **query):
        url = "http://127.0.0.1:%d%s?%s" % (self.http_port, path, urllib.parse.urlencode(query))
        req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read()

    def create(self, topic, *channels):
        """Creates the topic and its channels up front, so a publish queues into the channels."""
        self.http("POST", "/topic/create", topic=topic)
        for ch in channels:
            self.http("POST", "/channel/create", topic=topic, channel=ch)

    def channel_depth(self, topic, channel):
        """The channel's depth (memory + disk) from /stats, or None when it is not listed."""
        stats = json.loads(self.http("GET", "/stats", format="json", topic=topic, channel=channel))
        stats = stats.get("data", stats)  # older nsqd wrapped the reply in {"data": ...}
        for t in stats.get("topics") or []:
            if t.get("topic_name") == topic:
                for c in t.get("channels") or []:
                    if c.get("channel_name") == channel:
                        return c.get("depth")
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def seconds_flag(seconds):
    return "--runfor=%gs" % seconds


class OurGenerator:
    """nsq_bench writer/reader/latency (bench/nsq_bench.cpp): one JSON object per run."""
    name = "ours"

    def __init__(self, nsq_bench):
        self.bin = nsq_bench

    def command(self, mode, addr, seconds, *args):
        return [self.bin, mode, "--nsqd-tcp-address=" + addr, seconds_flag(seconds), "--json", *args]

    @staticmethod
    def parse(stdout):
        return json.loads(stdout.strip().splitlines()[-1])

    def run(self, mode, addr, seconds, *args):
        out = subprocess.run(self.command(mode, addr, seconds, *args), check=True, capture_output=True,
                             text=True).stdout
        return self.parse(out)

    def writer(self, addr, seconds, topic, size, batch=200, count=None):
        extra = ["--count=%d" % count] if count else []
        return self.run("writer", addr, seconds, "--topic=" + topic, "--size=%d" % size,
                        "--batch-size=%d" % batch, *extra)

    def reader_command(self, addr, seconds, topic, channel, size, count=None, connections=None):
        extra = ["--count=%d" % count] if count else []
        extra += ["--connections=%d" % connections] if connections else []
        return self.command("reader", addr, seconds, "--topic=" + topic, "--channel=" + channel,
                            "--size=%d" % size, *extra)

    def reader(self, addr, seconds, topic, channel, size, count=None):
        return self.parse(subprocess.run(self.reader_command(addr, seconds, topic, channel, size, count),
                                         check=True, capture_output=True, text=True).stdout)

    def latency(self, addr, seconds, topic, rate):
        return self.run("latency", addr, seconds, "--topic=" + topic, "--rate=%d" % rate)


class OriginalGenerator:
    """The original's bench_writer/bench_reader (Go, GOMAXPROCS connections each). They cannot
    stop at a count (the reader's rate is over the whole --runfor) and log their result."""
    name = "original"
    LINE = re.compile(r"duration: (\S+) - [\d.]+mb/s - ([\d.]+)ops/s")

    def __init__(self, bin_dir):
        self.writer_bin = os.path.join(bin_dir, "bench_writer")
        self.reader_bin = os.path.join(bin_dir, "bench_reader")

    @staticmethod
    def available(bin_dir):
        return bool(bin_dir) and all(os.access(os.path.join(bin_dir, b), os.X_OK)
                                     for b in ("bench_writer", "bench_reader"))

    @classmethod
    def parse(cls, stderr):
        m = cls.LINE.search(stderr)
        if not m:
            raise RuntimeError("no result line in: " + stderr[-500:])
        return {"msgs_per_sec": float(m.group(2)), "duration": m.group(1)}

    def run(self, cmd):
        p = subprocess.run(cmd, check=True, capture_output=True, text=True)
        out = self.parse(p.stderr)
        return out

    def writer(self, addr, seconds, topic, size, batch=200, count=None):
        assert count is None, "bench_writer cannot stop at a count"
        return self.run([self.writer_bin, "--nsqd-tcp-address=" + addr, seconds_flag(seconds), "--topic=" + topic,
                         "--size=%d" % size, "--batch-size=%d" % batch])

    def reader_command(self, addr, seconds, topic, channel, size, count=None, connections=None):
        return [self.reader_bin, "--nsqd-tcp-address=" + addr, seconds_flag(seconds), "--topic=" + topic,
                "--channel=" + channel, "--size=%d" % size]

    def reader(self, addr, seconds, topic, channel, size, count=None):
        return self.run(self.reader_command(addr, seconds, topic, channel, size))


def start_readers(generator, addr, seconds, topic, channels, size):
    """One reader process per channel (ours: one connection each), running concurrently."""
    procs = [subprocess.Popen(generator.reader_command(addr, seconds, topic, ch, size, connections=1),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for ch in channels]
    return procs


def finish_readers(generator, procs):
    """Waits for start_readers' processes; returns their summed msgs/s."""
    total = 0.0
    for p in procs:
        out, err = p.communicate()
        if p.returncode != 0:
            raise RuntimeError("reader exited %d: %s" % (p.returncode, err[-500:]))
        total += (generator.parse(out) if isinstance(generator, OurGenerator) else generator.parse(err))["msgs_per_sec"]
    return total
