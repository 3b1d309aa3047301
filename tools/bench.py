"""The body of tools/bench (run that, not this): times the action and the docker CLI pipeline on the
local stack and prints medians and ratios, one table per network profile (BENCH_PROFILES, default
`lan,wan`: loopback as it is, then every client's traffic to the registries and the ECR API through
testbed/wan-shaper with WAN, default `rtt=40ms,bw=200mbit`) and engine. Owns switching the WAN profile
on for its WAN runs and off again, whatever happens. Timings go here, never into the test suite."""
import json, os, shutil, statistics, subprocess, sys, tempfile, threading, time, uuid

BINARY, STATIC_BINARY = sys.argv[1], sys.argv[2]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
ACCOUNT, REGION = os.environ["TESTBED_ACCOUNT"], os.environ["TESTBED_REGION"]
HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
# The test bed's three registries: the caller's in both regions (the second behind the ECR-like front),
# and the other account's; `destinations` names them as two regions and a host.
HOSTS = [HOST, f"{ACCOUNT}.dkr.ecr.{os.environ['TESTBED_FRONT_REGION']}.amazonaws.com",
         f"{os.environ['TESTBED_OTHER_ACCOUNT']}.dkr.ecr.{REGION}.amazonaws.com"]
DESTINATIONS = f"{REGION} {os.environ['TESTBED_FRONT_REGION']} {HOSTS[2]}"
PASSWORD = f"{ACCOUNT}-auth-token"  # moto's fixed token: the CLI's token fetch is not timed
WORK = tempfile.mkdtemp(prefix="ecr-push-bench-")
# Both engines of the test bed: (name, DOCKER_HOST, root of its own or None). BENCH_ENGINES=classic or
# =containerd runs one of them.
ENGINES = [e for e in (
    ("classic", "20.10, classic store", "unix:///var/run/docker.sock", None),
    ("containerd", "28.x, containerd store", "unix://" + os.environ["TESTBED_ENGINE_SOCKET"],
     os.environ["TESTBED_ENGINE_ROOT"]),
) if os.environ.get("BENCH_ENGINES", e[0]) == e[0]]
ENGINE = {"host": ENGINES[0][2], "root": ENGINES[0][3]}  # the one being measured
# Network profiles: `lan` (the test bed as it is) and `wan` (testbed/wan on $WAN). In WAN the action's
# ECR API is the shaped one that `testbed/wan on` names; the untimed set-up calls go to moto directly.
PROFILES = [p.strip() for p in os.environ.get("BENCH_PROFILES", "lan,wan").split(",") if p.strip()]
WAN = os.environ.get("WAN", "rtt=40ms,bw=200mbit")
API = {"url": os.environ["TESTBED_ECR_API"]}  # where the action's AWS_ENDPOINT_URL points now
if not PROFILES or set(PROFILES) - {"lan", "wan"}:
    os.rmdir(WORK)
    raise SystemExit(f"BENCH_PROFILES={os.environ.get('BENCH_PROFILES')!r}: a list of lan and wan")


def wan(on):
    """The WAN profile on (the shaped ECR API's URL kept for the action) or off (the plain one)."""
    if on:
        out = subprocess.run(["testbed/wan", "on", WAN], check=True, stdout=subprocess.PIPE, text=True).stdout
        API["url"] = next(line.split("=", 1)[1] for line in out.splitlines() if line.startswith("AWS_ENDPOINT_URL="))
    else:
        subprocess.run(["testbed/wan", "off"], check=True)
        API["url"] = os.environ["TESTBED_ECR_API"]


def run(*args, env=None, **kw):
    env = {**(env or os.environ), "DOCKER_HOST": ENGINE["host"]}
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                          **kw).stdout.strip()


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def chroot_env():
    """The engine's own CLI inside its root talks to its default socket there: no DOCKER_HOST."""
    return {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}


def make_image(kind):
    """A new image with content of its own: `tiny` (one small layer) or `60mb` (four 15 MB layers). The
    current engine builds with its own buildx and its defaults (a provenance attestation), as a job would."""
    name = unique("ctx")
    ctx = os.path.join(ENGINE["root"], "tmp", name) if ENGINE["root"] else os.path.join(WORK, name)
    os.makedirs(ctx)
    if kind == "tiny":
        open(os.path.join(ctx, "hello"), "w").write(uuid.uuid4().hex)
        lines = ["FROM scratch", "COPY hello /hello"]
    else:
        lines = ["FROM scratch"]
        for i in range(4):
            with open(os.path.join(ctx, f"layer{i}"), "wb") as f:
                f.write(os.urandom(15 * 1024 * 1024))
            lines.append(f"COPY layer{i} /layer{i}")
    open(os.path.join(ctx, "Dockerfile"), "w").write("\n".join(lines) + "\n")
    ref = f"{unique('bench-' + kind)}:src"
    if ENGINE["root"]:
        subprocess.run(["chroot", ENGINE["root"], "docker", "buildx", "build", "-q", "-t", ref, f"/tmp/{name}"],
                       check=True, capture_output=True, env=chroot_env())
    else:
        run("docker", "build", "-q", "-t", ref, ctx, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    shutil.rmtree(ctx)
    return ref


def cli_pipeline(image, repository, tags, hosts=(HOST,)):
    """What a workflow does today, per registry one after the other: login, tag, push each tag, logout."""
    config = tempfile.mkdtemp(dir=WORK)
    start = time.perf_counter()
    for host in hosts:
        subprocess.run(["docker", "--config", config, "login", "-u", "AWS", "--password-stdin", host],
                       input=PASSWORD, check=True, capture_output=True, text=True,
                       env={**os.environ, "DOCKER_HOST": ENGINE["host"]})
        for tag in tags:
            run("docker", "tag", image, f"{host}/{repository}:{tag}")
        for tag in tags:
            run("docker", "--config", config, "push", f"{host}/{repository}:{tag}")
        run("docker", "--config", config, "logout", host)
    elapsed = time.perf_counter() - start
    run("docker", "rmi", *[f"{host}/{repository}:{tag}" for host in hosts for tag in tags])
    shutil.rmtree(config)
    return elapsed, 0


def action(image, repository, tags, destinations="", region=REGION, key="AKIABENCH0000000001"):
    out = open(os.path.join(WORK, "output"), "w")
    env = {
        "PATH": os.environ["PATH"], "HOME": WORK, "AWS_ENDPOINT_URL": API["url"],
        "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out.name, "GITHUB_STEP_SUMMARY": os.path.join(WORK, "summary"),
        "INPUT_LOCAL-IMAGE": image, "INPUT_REPOSITORY": repository, "INPUT_TAGS": " ".join(tags),
        "INPUT_AWS-REGION": region, "INPUT_AWS-ACCESS-KEY-ID": key,
        "INPUT_AWS-SECRET-ACCESS-KEY": "bench-secret", "INPUT_CREATE-REPOSITORY": "true",
        "DOCKER_HOST": ENGINE["host"], "INPUT_DESTINATIONS": destinations,
        # The action's own registry requests (images on disk) trust the test CA, as the tests do.
        "SSL_CERT_FILE": os.path.join(os.environ["TESTBED_DIR"], "ca-bundle.crt"),
    }
    # The peak RSS through GNU time, which forks the action from its own small process: a child of this
    # Python process would report Python's RSS (17 MiB with the many-jobs threads) where it is larger,
    # as Linux keeps the high-water mark of the memory a vfork-ed child shared with its parent across
    # the exec.
    rss = os.path.join(WORK, f"rss-{uuid.uuid4().hex}")
    start = time.perf_counter()
    child = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss, BINARY], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, _ = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"the action failed on {image} → {repository}")
    with open(rss) as measured:
        peak = int(measured.read().split()[-1])
    os.remove(rss)
    return elapsed, peak  # KiB


def case(kind, ntags, fresh):
    """Median seconds of (CLI, action) over ROUNDS, and the action's peak RSS."""
    if ENGINE["root"]:
        # BuildKit keeps every context's layers in its cache (33 GB after one whole run filled the disk):
        # pruned before each case, not between its timed runs (the store's garbage collection follows).
        subprocess.run(["chroot", ENGINE["root"], "docker", "builder", "prune", "-af"], check=True,
                       capture_output=True, env=chroot_env())
        time.sleep(2)
    times = {"cli": [], "action": []}
    rss = 0
    shared = None if fresh else make_image(kind)
    for _ in range(ROUNDS):
        for who, fn in (("cli", cli_pipeline), ("action", action)):
            image = make_image(kind) if fresh else shared
            repository = unique(f"bench/{who}")
            if not fresh:  # the layers are in this repository already, under another tag
                # The repository exists, as it must in ECR before `docker push` (the registry of the
                # test bed would take the push without it, and the action would then create it).
                create_repository(repository, REGION)
                cli_pipeline(image, repository, ["seed"])
            elapsed, peak = fn(image, repository, [f"t{i}" for i in range(ntags)])
            times[who].append(elapsed)
            rss = max(rss, peak)
            if fresh:
                run("docker", "rmi", image)
    if shared:
        run("docker", "rmi", shared)
    return statistics.median(times["cli"]), statistics.median(times["action"]), rss


def create_in_front_region(repository):
    """The ECR-like front serves only repositories its region's API knows (as ECR does): the CLI loop
    needs them made first, as a workflow would with `aws ecr create-repository` (not timed)."""
    return create_repository(repository, os.environ["TESTBED_FRONT_REGION"])


def create_repository(repository, region):
    """The repository made in `region` through moto (not timed), as `aws ecr create-repository` would."""
    subprocess.run([os.path.join(os.environ["TESTBED_DIR"], "venv/bin/python"), "-c",
                    "import boto3, sys; boto3.client('ecr', endpoint_url=sys.argv[1], region_name=sys.argv[2], "
                    "aws_access_key_id='AKIABENCH', aws_secret_access_key='x').create_repository(repositoryName=sys.argv[3])",
                    os.environ["AWS_ENDPOINT_URL"], region, repository], check=True)
    return repository


def destinations_cases():
    """Three registries, one 60 MB image: against the CLI loop (new layers everywhere), and the action to
    three against the action to one when the layers are in every registry already."""
    loop, ours, present, one, floor3, floor1 = [], [], [], [], [], []
    for _ in range(ROUNDS):
        # An image each: the daemon would mount the layers it pushed for the other from the same registry.
        for who, out in (("loop", loop), ("dest", ours)):
            image = make_image("60mb")
            repository = create_in_front_region(unique(f"bench/{who}"))
            if who == "loop":
                out.append(cli_pipeline(image, repository, ["t0"], HOSTS)[0])
            else:
                out.append(action(image, repository, ["t0"], DESTINATIONS)[0])
            run("docker", "rmi", image)
        image = make_image("60mb")
        seeded = create_in_front_region(unique("bench/present"))
        cli_pipeline(image, seeded, ["seed"], HOSTS)
        present.append(action(image, seeded, ["t1"], DESTINATIONS)[0])
        one.append(action(image, seeded, ["t2"])[0])
        floor3.append(bare_pushes(image, seeded, HOSTS))
        floor1.append(bare_pushes(image, seeded, HOSTS[:1]))
        run("docker", "rmi", image)
    loop, ours, present, one, floor3, floor1 = map(statistics.median, (loop, ours, present, one, floor3, floor1))
    print(f"{'3 destinations, 60 MB, new layers':<34} {loop:7.3f} {ours:7.3f} {ours / loop:6.2f}  ≤ 0.60 "
          "(against the CLI loop: login + tag + push per registry)")
    print(f"{'3 destinations, layers present':<34} {one:7.3f} {present:7.3f} {present / one:6.2f}  ≤ 1.30 "
          "(against the action to one destination)")
    print(f"{'  docker push × 3 at once, present':<34} {floor1:7.3f} {floor3:7.3f} {floor3 / floor1:6.2f}  "
          "(the floor here: bare pushes, logged in and tagged, against one)", flush=True)


def bare_pushes(image, repository, hosts):
    """Seconds for `docker push` to each host at once, already logged in and tagged (layers present): what
    the daemon and the registries of this machine allow any client, untimed set-up aside."""
    config, tag = tempfile.mkdtemp(dir=WORK), unique("bare")
    for host in hosts:
        subprocess.run(["docker", "--config", config, "login", "-u", "AWS", "--password-stdin", host],
                       input=PASSWORD, check=True, capture_output=True, text=True,
                       env={**os.environ, "DOCKER_HOST": ENGINE["host"]})
        run("docker", "tag", image, f"{host}/{repository}:{tag}")
    pushes = [threading.Thread(target=run, args=("docker", "--config", config, "push", f"{host}/{repository}:{tag}"))
              for host in hosts]
    elapsed = timed_at_once(pushes)
    run("docker", "rmi", *[f"{host}/{repository}:{tag}" for host in hosts])
    shutil.rmtree(config)
    return elapsed


def timed_at_once(threads):
    """Seconds from starting every thread to the last one's end."""
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def many_jobs(jobs=64):
    """A matrix's jobs at once against one registry that throttles (the ECR API above 20 calls/s per
    access-key prefix, the registry 5 manifest writes and 40 other requests per second, as
    tests/many_jobs.rs sets them): every run must succeed; the release build's peak RSS per run."""
    image = make_image("tiny")
    region = os.environ["TESTBED_FRONT_REGION"]
    repository = create_in_front_region(unique("bench/many"))
    action(image, repository, ["seed"], region=region)
    prefix = "AKIA" + uuid.uuid4().hex[:8].upper()
    control = f"http://{os.environ['TESTBED_FRONT_CONTROL']}/rules"
    post = lambda url, rule: subprocess.run(["curl", "-fsS", "-X", "POST", "--data-binary", json.dumps(rule), url],
                                            check=True, capture_output=True)
    post(f"{os.environ['TESTBED_ECR_API']}/_throttle", {"key_prefix": prefix, "rate": 20})
    post(control, {"kind": "throttle", "rates": {"PutImage": 5, "*": 40}, "repository": repository})
    results = [None] * jobs
    def job(i):
        try:
            results[i] = action(image, repository, [f"job-{i}"], region=region, key=f"{prefix}{i:08}")
        except SystemExit as failed:
            results[i] = failed
    elapsed = timed_at_once([threading.Thread(target=job, args=(i,)) for i in range(jobs)])
    post(control, {"kind": "throttle", "lift": True, "repository": repository})
    api = json.loads(subprocess.run(["curl", "-fsS", f"{os.environ['TESTBED_ECR_API']}/_throttle/{prefix}"],
                                    check=True, capture_output=True, text=True).stdout)
    registry = json.loads(subprocess.run(["curl", "-fsS", f"{control}/{repository}"], check=True,
                                         capture_output=True, text=True).stdout).get("throttled", 0)
    done = [r for r in results if isinstance(r, tuple)]
    rss = sorted(r[1] for r in done)
    slowest = max((r[0] for r in done), default=0)
    print(f"{jobs} jobs at once under throttling: {len(done)}/{jobs} succeeded in {elapsed:.1f} s (slowest run "
          f"{slowest:.1f} s, timeout 30 min); API calls throttled {api.get('throttled')} of "
          f"{api.get('throttled', 0) + api.get('allowed', 0)}, registry requests throttled {registry}; peak RSS "
          f"per run median {rss[len(rss) // 2] / 1024:.1f} MiB, max {rss[-1] / 1024:.1f} MiB (target ≤ 16)", flush=True)
    run("docker", "rmi", image)


def on_disk_layout(megabytes):
    """An OCI image layout of one uncompressed layer holding `megabytes` MB of random bytes (random:
    what neither side can compress away), and the layer's tar for `docker import`."""
    root = tempfile.mkdtemp(dir=WORK)
    content = os.path.join(root, "content")
    with open(content, "wb") as f:
        for _ in range(megabytes):
            f.write(os.urandom(1 << 20))
    layer = os.path.join(root, "layer.tar")
    subprocess.run(["tar", "-C", root, "-cf", layer, "content"], check=True)
    os.remove(content)
    layout = os.path.join(root, "layout")
    os.makedirs(os.path.join(layout, "blobs", "sha256"))

    def blob(data=None, path=None):
        h = __import__("hashlib").sha256()
        if path:
            with open(path, "rb") as f:
                for piece in iter(lambda: f.read(1 << 20), b""):
                    h.update(piece)
            size = os.path.getsize(path)
            shutil.copyfile(path, os.path.join(layout, "blobs", "sha256", h.hexdigest()))
        else:
            h.update(data)
            size = len(data)
            open(os.path.join(layout, "blobs", "sha256", h.hexdigest()), "wb").write(data)
        return {"digest": "sha256:" + h.hexdigest(), "size": size}

    import json
    layer_d = blob(path=layer)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [layer_d["digest"]]}}).encode()
    config_d = blob(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_d},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer_d}]}).encode()
    manifest_d = blob(manifest)
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                   **manifest_d}]}, open(os.path.join(layout, "index.json"), "w"))
    json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(layout, "oci-layout"), "w"))
    return layout, layer


def on_disk_case(megabytes=500):
    """A `megabytes` MB layer pushed by the action (no daemon) from an OCI layout and from that layout in
    a tar (oci-archive: read in place), each against `docker push` of the same content imported into the
    daemon (logged in and tagged first; the push alone timed)."""
    ours, archived, theirs, rss = [], [], [], {"layout": 0, "archive": 0}
    for _ in range(min(ROUNDS, 3)):
        layout, layer = on_disk_layout(megabytes)
        elapsed, peak = action(f"oci-layout:{layout}", unique("bench/on-disk"), ["t0"])
        ours.append(elapsed)
        rss["layout"] = max(rss["layout"], peak)
        archive = os.path.join(os.path.dirname(layout), "image.tar")
        subprocess.run(["tar", "-C", layout, "-cf", archive, "."], check=True)
        elapsed, peak = action(f"oci-archive:{archive}", unique("bench/on-disk-tar"), ["t0"])
        archived.append(elapsed)
        rss["archive"] = max(rss["archive"], peak)
        image = run("docker", "import", layer)
        # bare_pushes removes its tags, and with the last one the imported image.
        theirs.append(bare_pushes(image, unique("bench/on-disk-cli"), [HOST]))
        shutil.rmtree(os.path.dirname(layout))
    theirs = statistics.median(theirs)
    for what, times in (("layout", ours), ("archive", archived)):
        mine = statistics.median(times)
        print(f"{f'{megabytes} MB layer, OCI {what}':<34} {theirs:7.3f} {mine:7.3f} {mine / theirs:6.2f}  ≤ 1.20 "
              f"(against docker push of it; the action's peak RSS {rss[what] / 1024:.1f} MiB, target < 64)",
              flush=True)


# BENCH_ONLY=table,destinations,profile,on-disk,many-jobs (any of them, comma-separated) runs those parts.
ONLY = {part.strip() for part in os.environ.get("BENCH_ONLY", "").split(",") if part.strip()}


def part(name):
    return not ONLY or name in ONLY


def container_figures():
    ctx = os.path.join(WORK, "image")
    os.makedirs(ctx)
    shutil.copy(STATIC_BINARY, os.path.join(ctx, "ecr-push-action"))
    shutil.copy("/etc/ssl/certs/ca-certificates.crt", os.path.join(ctx, "ca-certificates.crt"))
    shutil.copy("tests/fixtures/scratch.Dockerfile", os.path.join(ctx, "Dockerfile"))
    tag = f"{unique('ecr-push-action-bench')}:latest"
    run("docker", "build", "-q", "-t", tag, ctx, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    size = int(run("docker", "image", "inspect", "-f", "{{.Size}}", tag))
    starts = []
    for _ in range(10):
        start = time.perf_counter()
        run("docker", "run", "--rm", tag, "--version")
        starts.append(time.perf_counter() - start)
    run("docker", "rmi", tag)
    return size, statistics.median(starts)


def profile():
    """Where the time goes in the 60 MB, 3 tags, new layers case: seconds from the start to each step."""
    image = make_image("60mb")
    config = tempfile.mkdtemp(dir=WORK)
    repository = unique("bench/profile-cli")
    marks, start = [], time.perf_counter()
    subprocess.run(["docker", "--config", config, "login", "-u", "AWS", "--password-stdin", HOST],
                   input=PASSWORD, check=True, capture_output=True, text=True,
                   env={**os.environ, "DOCKER_HOST": ENGINE["host"]})
    marks.append(("login", time.perf_counter() - start))
    for i in range(3):
        run("docker", "tag", image, f"{HOST}/{repository}:t{i}")
    marks.append(("3 × tag", time.perf_counter() - start))
    for i in range(3):
        run("docker", "--config", config, "push", f"{HOST}/{repository}:t{i}")
        marks.append((f"push t{i}", time.perf_counter() - start))
    run("docker", "--config", config, "logout", HOST)
    marks.append(("logout", time.perf_counter() - start))
    print("profile, CLI pipeline:  " + ", ".join(f"{name} {t:.3f}" for name, t in marks))
    run("docker", "rmi", *[f"{HOST}/{repository}:t{i}" for i in range(3)], image)

    image = make_image("60mb")  # new layers again: the registry would mount the CLI's ones
    env = {"PATH": os.environ["PATH"], "HOME": WORK, "AWS_ENDPOINT_URL": API["url"],
           "INPUT_LOCAL-IMAGE": image, "INPUT_REPOSITORY": unique("bench/profile-action"), "INPUT_TAGS": "t0 t1 t2",
           "INPUT_AWS-REGION": REGION, "INPUT_AWS-ACCESS-KEY-ID": "AKIABENCH0000000001",
           "INPUT_AWS-SECRET-ACCESS-KEY": "bench-secret", "DOCKER_HOST": ENGINE["host"]}
    marks, start = [], time.perf_counter()
    child = subprocess.Popen([BINARY], env=env, stdout=subprocess.PIPE, text=True)
    for line in child.stdout:
        if line.startswith("::group::"):
            marks.append((line[len("::group::"):].strip().replace(HOST + "/", ""), time.perf_counter() - start))
    child.wait()
    marks.append(("done", time.perf_counter() - start))
    print("profile, action (start of each step):  " + ", ".join(f"{name} {t:.3f}" for name, t in marks))
    run("docker", "rmi", image)


def main():
    print(f"ecr-push-action benchmark: {ROUNDS} rounds per case, medians in seconds; profiles {', '.join(PROFILES)}")
    peak = 0
    try:
        for name in PROFILES:
            wan(name == "wan")
            heading = ("LAN (loopback, not shaped)" if name == "lan" else
                       f"WAN ({WAN}: testbed/wan-shaper between every client and the registries and ECR API)")
            peak = max(peak, profile_tables(heading))
    finally:
        wan(False)
    ENGINE.update(host="unix:///var/run/docker.sock", root=None)  # the start time measured on 20.10, as before
    size, start = container_figures()
    if peak:
        print(f"peak RSS of the action: {peak / 1024:.1f} MiB (target ≤ 40)")
    print(f"container image: {size / 1e6:.1f} MB uncompressed (target ≤ 20)")
    print(f"container start (docker run --rm … --version), median of 10: {start:.3f} s (target ≤ 0.3)")
    shutil.rmtree(WORK, ignore_errors=True)


def profile_tables(heading):
    """Every case on every engine under the network profile now set; the action's peak RSS."""
    peak = 0
    for _, title, host, root in ENGINES:
        ENGINE.update(host=host, root=root)
        print(f"\nprofile: {heading}\nengine: Docker {title} ({run('docker', 'version', '-f', '{{.Server.Version}}')})")
        print(f"{'case':<34} {'CLI':>7} {'action':>7} {'ratio':>6}  target")
        for kind in ("tiny", "60mb") if part("table") else ():
            for fresh in (True, False):
                for ntags in (1, 3):
                    cli, ours, rss = case(kind, ntags, fresh)
                    peak = max(peak, rss)
                    # Issue 27: on the LAN, the containerd store's one-tag cases ≤ 1.05; on the WAN, 60 MB
                    # with 3 tags (new layers) ≤ 0.90. Earlier targets for the rest.
                    target = "≤ 1.10" if kind == "tiny" else ""
                    if ntags == 1 and root and "LAN" in heading:
                        target = "≤ 1.05"
                    if kind == "60mb" and fresh and ntags == 3:
                        target = "≤ 0.90" if "WAN" in heading else "≤ 0.85"
                    name = f"{kind}, {ntags} tag{'s' if ntags > 1 else ''}, {'new layers' if fresh else 'layers exist'}"
                    print(f"{name:<34} {cli:7.3f} {ours:7.3f} {ours / cli:6.2f}  {target}", flush=True)
        if part("destinations"):
            destinations_cases()
        if part("profile"):
            profile()
        if part("on-disk") and root is None:
            on_disk_case()
        if part("many-jobs") and heading.startswith("LAN"):
            try:
                many_jobs()
            except (subprocess.CalledProcessError, ValueError, KeyError) as failed:  # the tables still print
                print(f"64 jobs at once: the benchmark itself failed: {failed}", flush=True)
    return peak


if __name__ == "__main__":
    main()
