package io.losswatch.bench;

import io.losswatch.cli.Cli;
import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
import io.losswatch.core.config.Json;
import io.losswatch.event.RunState;
import io.losswatch.server.Server;
import io.losswatch.server.ServerConfig;
import io.losswatch.run.Run;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code java -Xmx2g -jar target/losswatch-bench.jar [--quick] [--only=SECTION]}: the live server's throughput,
 * latency, scrape time and memory, measured in-process over loopback (the live-mode load comes from a separate
 * process; {@code cluster} runs its nodes as processes of their own; {@code cluster-scale} and {@code cluster-catchup},
 * asked alone, its scale-out and its catch-up rows), each figure beside its target; and
 * {@code lr-free}, auto_lr against the learning-rate-free optimizers (pure computation). A jar of its own beside
 * losswatch.jar, never part of it; BENCHMARKS.md has the results.
 */
@Command(name = "bench", sortOptions = false,
    synopsisHeading = "",
    customSynopsis = "usage: java -Xmx2g -jar target/losswatch-bench.jar [--quick] [--only=SECTION]",
    descriptionHeading = "%n",
    description = {
        "Measures the live server in this process, over loopback, and prints each figure beside its target",
        "(BENCHMARKS.md has the results and how they were taken). A whole run takes several minutes."},
    optionListHeading = "%noptions:%n")
public final class BenchCommand implements Callable<Integer> {
  /** The sections, in the order a whole run measures them ({@code cluster-scale}, {@code cluster-catchup} only when asked alone). */
  static final List<String> SECTIONS = List.of("pipeline", "history", "ws-all", "ws-live", "ingest", "metrics", "sweep",
      "flood", "wildcard", "cluster", "cluster-scale", "cluster-catchup", "lr-free");
  private static final String ROSENBROCK = "{\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":\"adam\",\"lr\":0.001},\"steps\":%d%s}";
  @Option(names = "--quick", description = "smaller loads: a quick look, not figures to quote")
  boolean quick;
  @Option(names = "--only", paramLabel = "SECTION", completionCandidates = Sections.class,
      description = "one section: ${COMPLETION-CANDIDATES}")
  String only;
  @Mixin
  Cli.Help help;
  @Spec
  CommandSpec spec;
  PrintWriter out;
  private final List<String[]> rows = new ArrayList<>();
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();   // as Prometheus

  /** The bench jar's entry point. */
  public static void main(String[] args) {
    Server.configureNetty();   // before anything loads Netty
    System.exit(Cli.commandLine(new BenchCommand(), Cli.writer(System.out), Cli.writer(System.err)).execute(args));
  }

  /** {@link #SECTIONS}, as picocli lists them in the usage. */
  static final class Sections implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return SECTIONS.iterator();
    }
  }

  @Override
  public Integer call() {
    if (only != null && !SECTIONS.contains(only)) {
      return Cli.refuse(spec, "--only: must be one of " + String.join(", ", SECTIONS) + ", got " + only
          + "; try --help");
    }
    out = spec.commandLine().getOut();
    try {
      out.printf("losswatch bench%s: %d cores, max heap %d MiB, %s%n", quick ? " --quick" : "",
          Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20, java.time.Instant.now());
      if (runs("pipeline")) pipeline();
      if (runs("history")) history();
      if (runs("ws-all")) webSocketAll();
      if (runs("ws-live")) webSocketLive();
      if (runs("ingest")) ingest();
      if (runs("metrics")) metricsAndMemory();
      if (runs("sweep")) sweep();
      if (runs("flood")) flood();
      if (runs("wildcard")) wildcard();
      if (runs("cluster")) new ClusterBench(this).run();
      if ("cluster-scale".equals(only)) new ClusterBench(this).run(true);   // the scale-out rows of cluster alone
      if ("cluster-catchup".equals(only)) new ClusterBench(this).catchUpOnly();   // its catch-up rows alone
      if (runs("lr-free")) new LrFreeBench(this).run();
      print();
      return 0;
    } catch (Exception e) {
      print();
      out.println("bench failed: " + e);
      e.printStackTrace(out);
      return 1;
    }
  }

  private boolean runs(String section) {
    return only == null || only.equals(section);
  }

  void row(String figure, String measured, String target, boolean met) {
    rows.add(new String[] {figure, measured, target, met ? "met" : "MISSED"});
    out.printf("  %-58s %-26s target %-16s %s%n", figure, measured, target, met ? "met" : "MISSED");
  }

  private void print() {
    out.println();
    out.println("| figure | measured | target | |");
    out.println("|---|---|---|---|");
    for (String[] r : rows) out.println("| " + String.join(" | ", r) + " |");
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
  }

  /** A server on a free port with a fresh data folder and no demo runs. */
  private Server server(ServerConfig.Builder b) throws Exception {
    return await(Server.start(b.demo(false).port(0).dataDir(Files.createTempDirectory("losswatch-bench")).build()));
  }

  private String post(Server s, String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  @SuppressWarnings("unchecked")
  private String create(Server s, String spec) throws Exception {
    return (String) ((Map<String, Object>) Json.parse(post(s, "/api/runs", spec))).get("id");
  }

  private static void waitFor(Server s, List<String> ids, RunState state) throws InterruptedException {
    while (!ids.stream().allMatch(id -> s.manager().runs().get(id).map(r -> r.summary().state() == state).orElse(false))) {
      Thread.sleep(5);
    }
  }

  /** Unthrottled runs → event bus → metrics and history store, no subscriber. */
  private void pipeline() throws Exception {
    out.println("pipeline");
    long steps = quick ? 1_000_000 : 5_000_000;
    Trainer raw = new Trainer(RunSpec.parse(String.format(ROSENBROCK, steps, "")));
    long t0 = System.nanoTime();
    for (long i = 0; i < steps; i++) raw.step();
    double rawNs = (System.nanoTime() - t0) / (double) steps;
    Server s = server(ServerConfig.defaults().toBuilder());
    try {
      waitFor(s, List.of(create(s, String.format(ROSENBROCK, steps, ""))), RunState.FINISHED);   // JIT warm-up
      long start = System.nanoTime();
      String one = create(s, String.format(ROSENBROCK, steps, ""));
      waitFor(s, List.of(one), RunState.FINISHED);
      double aloneNs = (System.nanoTime() - start) / (double) steps;
      row("monitoring cost per step (one run: publish, metrics, store)", String.format("%.3f µs (%.0f vs %.0f ns/step)",
          (aloneNs - rawNs) / 1000, aloneNs, rawNs), "≤ 1 µs", aloneNs - rawNs <= 1000);
      // as many runs as cores, then 4 runs of 2M steps (issue 25's row)
      int cores = Runtime.getRuntime().availableProcessors();
      for (int runs : cores == 4 ? new int[] {4} : new int[] {cores, 4}) {
        long each = runs == 4 && !quick ? 2_000_000 : steps;
        List<String> ids = new ArrayList<>();
        start = System.nanoTime();
        for (int i = 0; i < runs; i++) ids.add(create(s, String.format(ROSENBROCK, each, "")));
        waitFor(s, ids, RunState.FINISHED);
        double trained = (System.nanoTime() - start) / 1e9;
        while (ids.stream().map(id -> s.manager().runs().get(id).orElseThrow().history())
            .anyMatch(h -> h.log().lastStep() < h.lastStep())) {
          Thread.sleep(5);
        }
        double stored = (System.nanoTime() - start) / 1e9;
        row("pipeline, " + runs + " unthrottled runs of " + each / 1_000_000 + "M steps, aggregate",
            String.format("%.2f M steps/s", runs * each / trained / 1e6), runs == 4 ? "≥ 4 M steps/s" : "≥ 1 M steps/s",
            runs * each / trained >= (runs == 4 ? 4e6 : 1e6));
        row("  … until the store has written every step", String.format("%.2f M steps/s", runs * each / stored / 1e6),
            "", true);
      }
      // the pacer (issue 25): a run asked for a pace gets it, up to 1M steps/s, over 3 s of steps
      for (int pace : new int[] {300_000, 1_000_000}) {
        long start3 = System.nanoTime();
        waitFor(s, List.of(create(s, String.format(ROSENBROCK, 3L * pace, ",\"steps_per_second\":" + pace))), RunState.FINISHED);
        double got = 3.0 * pace / ((System.nanoTime() - start3) / 1e9);
        row("a run paced at " + pace / 1000 + "k steps/s, 3 s of steps", String.format("%.0fk steps/s (%.1f%%)",
            got / 1000, 100 * got / pace), "within 5%", got >= 0.95 * pace);
      }
    } finally {
      await(s.close());
    }
  }

  /**
   * A downsampled overview of a whole run read back from its log on disk: a 1M-step run the server trained,
   * and a 100M-step one written straight to a data folder and restored (its blocks' extremes make the cost
   * follow the buckets, not the steps).
   */
  private void history() throws Exception {
    out.println("history");
    long steps = quick ? 200_000 : 1_000_000;
    Server s = server(ServerConfig.defaults().toBuilder());
    try {
      String id = create(s, String.format(ROSENBROCK, steps, ""));
      waitFor(s, List.of(id), RunState.FINISHED);
      var h = s.manager().runs().get(id).orElseThrow().history();
      while (h.log().count() < steps) Thread.sleep(5);
      overview(s, id, steps);
    } finally {
      await(s.close());
    }
    long many = quick ? 10_000_000 : 100_000_000;
    Path data = Files.createTempDirectory("losswatch-bench");
    String id = LongRun.write(data, many);
    s = await(Server.start(ServerConfig.defaults().toBuilder().demo(false).port(0).dataDir(data).build()));
    try {
      overview(s, id, many);
    } finally {
      await(s.close());
    }
  }

  private void overview(Server s, String id, long steps) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + s.port() + "/api/runs/" + id + "/steps?max_points=2000");
    for (int i = 0; i < 20; i++) http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding());
    double[] ms = new double[20];
    for (int i = 0; i < ms.length; i++) {
      long t = System.nanoTime();
      http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
      ms[i] = (System.nanoTime() - t) / 1e6;
    }
    Arrays.sort(ms);
    row("GET steps?max_points=2000 over a " + (steps >= 1_000_000 ? steps / 1_000_000 + "M" : steps / 1000 + "k")
        + "-step run on disk", String.format("%.1f ms (p90 %.1f)", ms[10], ms[18]), "≤ 50 ms", ms[10] <= 50);
  }

  /** One all-mode subscriber to a 1M-step run: every step, in order, no gap. */
  private void webSocketAll() throws Exception {
    out.println("websocket all mode");
    long steps = quick ? 200_000 : 1_000_000;
    for (String pace : List.of("", ",\"steps_per_second\":300000")) {
      Server s = server(ServerConfig.defaults().toBuilder());
      Vertx client = Vertx.vertx();
      try {
        WebSocketClient wc = client.createWebSocketClient(new WebSocketClientOptions().setMaxMessageSize(1 << 22));
        AtomicLong received = new AtomicLong();
        AtomicLong lastStep = new AtomicLong();
        AtomicLong disorder = new AtomicLong();
        AtomicLong gaps = new AtomicLong();
        AtomicLong first = new AtomicLong();
        CompletableFuture<Long> done = new CompletableFuture<>();
        WebSocket ws = await(wc.webSocket().textMessageHandler(text -> {
          if (text.startsWith("{\"type\":\"steps\"")) {
            first.compareAndSet(0, System.nanoTime());
            String steps0 = text.substring(text.indexOf("\"step\":[") + 8, text.indexOf(']', text.indexOf("\"step\":[")));
            String[] ss = steps0.split(",");
            if (Long.parseLong(ss[0]) != lastStep.get() + 1) disorder.incrementAndGet();
            lastStep.set(Long.parseLong(ss[ss.length - 1]));
            received.addAndGet(ss.length);
          } else if (text.startsWith("{\"type\":\"gap\"")) {
            gaps.incrementAndGet();
            Map<?, ?> g = (Map<?, ?>) Json.parse(text);
            lastStep.set(((Number) g.get("to")).longValue());
          } else if (text.contains("\"state\":\"finished\"")) {
            done.complete(System.nanoTime());
          }
        }).connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(s.port()).setURI("/ws")));
        await(ws.writeTextMessage("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"all\"}"));
        Thread.sleep(200);
        create(s, String.format(ROSENBROCK, steps, pace));
        long end = done.get(10, TimeUnit.MINUTES);
        double rate = received.get() / ((end - first.get()) / 1e9);
        String label = "all mode, 1 subscriber, " + steps / 1000 + "k steps " + (pace.isEmpty() ? "unthrottled" : "paced 300k/s");
        boolean whole = gaps.get() == 0 && received.get() == steps && disorder.get() == 0;
        if (pace.isEmpty()) {
          row(label, String.format("%.0f k steps/s, %d gaps", rate / 1000, gaps.get()), "≥ 250k/s, no gap",
              rate >= 250_000 && whole);
        } else {   // the producer sets the pace here: only "every step, in order" is judged
          row(label, String.format("%.0f k steps/s, %d gaps", rate / 1000, gaps.get()), "no gap", whole);
        }
      } finally {
        await(client.close());
        await(s.close());
      }
    }
  }

  /**
   * Live subscribers to the demo gallery (12 runs at 20 steps/s), 5 more that never read, from a load generator
   * in its own process: 1,000, then 3,000.
   */
  private void webSocketLive() throws Exception {
    out.println("websocket live mode");
    Server s = await(Server.start(ServerConfig.defaults().toBuilder().port(0)
        .dataDir(Files.createTempDirectory("losswatch-bench")).build()));   // with the demo gallery
    try {
      // the JIT takes some 30 s of this load to settle (its compiler threads compete for the two cores): warm up
      if (!quick) loadGenerator(s.port(), 1000, 30, "live", false, 0);
      for (int clients : quick ? new int[] {200, 600} : new int[] {1000, 3000}) {
        Map<?, ?> r = loadGenerator(s.port(), clients, quick ? 5 : 20, "live", false, 5);
        double p50 = ((Number) r.get("p50_ms")).doubleValue();
        double p99 = ((Number) r.get("p99_ms")).doubleValue();
        double target = clients <= 1000 ? 50 : 250;
        row(clients + " live subscribers (+5 that never read) × demo gallery, newest step → client, p50",
            String.format("%.0f ms", p50), "reported", true);
        row("  … p99", String.format("%.0f ms", p99), String.format("≤ %.0f ms", target), p99 <= target);
        row("  … the oldest point of each update (the wait in its bucket, ≤ 1/max_hz), p50 / p99",
            String.format("%.0f / %.0f ms", ((Number) r.get("p50_with_bucket_ms")).doubleValue(),
                ((Number) r.get("p99_with_bucket_ms")).doubleValue()), "reported", true);
        row("  … frames received", String.format("%.0f /s", ((Number) r.get("messages_per_s")).doubleValue()),
            "reported", true);
      }
    } finally {
      await(s.close());
    }
  }

  /** Scripts appending to external runs over REST, from a process of their own. */
  private void ingest() throws Exception {
    out.println("ingest");
    Server s = server(ServerConfig.defaults().toBuilder());
    try {
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", classPath(), IngestGenerator.class.getName(), String.valueOf(s.port()), quick ? "5" : "20", "10000"));
      for (int i = 0; i < 4; i++) {
        cmd.add((String) ((Map<?, ?>) Json.parse(post(s, "/api/runs", "{\"source\":\"external\",\"name\":\"ingest " + i
            + "\"}"))).get("id"));
      }
      Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      String line = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor(5, TimeUnit.MINUTES);
      Map<?, ?> r = (Map<?, ?>) Json.parse(line.substring(line.lastIndexOf('{')));
      double rate = ((Number) r.get("steps_per_s")).doubleValue();
      row("ingest: 4 scripts appending 10,000 steps at a time (loss, lr, grad_norm), every step stored",
          String.format("%.2f M steps/s (%.0f appends/s)", rate / 1e6, ((Number) r.get("appends_per_s")).doubleValue()),
          "≥ 1 M steps/s", rate >= 1e6);
    } finally {
      await(s.close());
    }
  }

  static String classPath() throws Exception {
    String jar = Path.of(BenchCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    return System.getProperty("java.class.path").isEmpty() ? jar : System.getProperty("java.class.path");
  }

  private Map<?, ?> loadGenerator(int port, int clients, int seconds, String mode, boolean idle) throws Exception {
    return loadGenerator(port, clients, seconds, mode, idle, 0);
  }

  Map<?, ?> loadGenerator(int port, int clients, int seconds, String mode, boolean idle, int stalled)
      throws Exception {
    return loadGenerator(port, clients, seconds, mode, idle, stalled, seconds >= 15 ? 5 : 1);
  }

  /** {@code warmup}: seconds of the load before it is measured, in the same process (one JVM warms up once). */
  Map<?, ?> loadGenerator(int port, int clients, int seconds, String mode, boolean idle, int stalled, int warmup)
      throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", classPath(), LoadGenerator.class.getName(), String.valueOf(port), String.valueOf(clients), String.valueOf(seconds), mode));
    cmd.add(idle ? "idle" : "subscribe");
    cmd.add(String.valueOf(stalled));
    cmd.add(String.valueOf(warmup));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String line = new String(p.getInputStream().readAllBytes()).trim();
    p.waitFor(5, TimeUnit.MINUTES);
    return (Map<?, ?>) Json.parse(line.substring(line.lastIndexOf('{')));
  }

  private static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** /metrics with 1k and 10k series, heap per run, heap per idle subscriber. */
  /**
   * A 100-run sweep against two unthrottled runs doing the same number of steps in all: the aggregate pace, and
   * how long /metrics, the runs list and the sweep's ranking take to answer meanwhile (a client in this process
   * asking every 100 ms).
   */
  @SuppressWarnings("unchecked")
  private void sweep() throws Exception {
    out.println("sweep");
    long each = quick ? 2_000_000 : 10_000_000;   // the sweep lasts some 30 s: answers are timed over that
    Server s = server(ServerConfig.defaults().toBuilder().maxRuns(1000));
    try {
      waitFor(s, List.of(create(s, String.format(ROSENBROCK, each, ""))), RunState.FINISHED);   // JIT warm-up
      long start = System.nanoTime();
      List<String> two = List.of(create(s, String.format(ROSENBROCK, each, "")), create(s, String.format(ROSENBROCK, each, "")));
      waitFor(s, two, RunState.FINISHED);
      double pair = 2.0 * each / ((System.nanoTime() - start) / 1e9);
      int runs = 100;
      long steps = 2 * each / runs;
      // lrs 1e-4 to 0.1: adam on rosenbrock stays finite there, so every run takes all its steps
      String body = "{\"base\":" + String.format(ROSENBROCK, steps, "") + ",\"lr\":{\"from\":0.0001,\"to\":0.1,\"num\":" + runs + "}}";
      List<Double> metrics = new ArrayList<>();
      List<Double> list = new ArrayList<>();
      List<Double> ranking = new ArrayList<>();
      start = System.nanoTime();
      Map<String, Object> sweep = (Map<String, Object>) Json.parse(post(s, "/api/sweeps", body));
      String id = (String) sweep.get("sweep");
      List<String> ids = ((List<Object>) sweep.get("runs")).stream().map(r -> (String) ((Map<String, Object>) r).get("id")).toList();
      double startup = 0;   // the first second: 100 runs starting (their files, first checkpoints, JIT)
      while (!ids.stream().allMatch(r -> s.manager().runs().get(r).map(x -> !x.summary().state().isLive()).orElse(true))) {
        boolean first = System.nanoTime() - start < 1_000_000_000L;
        double m = timeGet(s, "/metrics");
        double l = timeGet(s, "/api/runs");
        double k = timeGet(s, "/api/sweeps/" + id);
        if (first) {
          startup = Math.max(startup, Math.max(m, Math.max(l, k)));
        } else {
          metrics.add(m);
          list.add(l);
          ranking.add(k);
        }
        Thread.sleep(100);
      }
      double secs = (System.nanoTime() - start) / 1e9;
      long taken = ids.stream().mapToLong(r -> s.manager().runs().get(r).orElseThrow().summary().step()).sum();
      double rate = taken / secs;
      row("two unthrottled runs, aggregate", String.format("%.2f M steps/s", pair / 1e6), "reported", true);
      row("a 100-run sweep (the same steps in all), aggregate", String.format("%.2f M steps/s (%.0f%% of two runs)",
          rate / 1e6, 100 * rate / pair), "≥ 80% of two runs", rate >= 0.8 * pair);
      row("  … the slowest answer in its first second, as 100 runs start", String.format("%.0f ms", startup), "reported",
          true);
      row("  … then /metrics, p50 / p99", String.format("%.1f / %.1f ms", pct(metrics, 50), pct(metrics, 99)),
          "p99 ≤ 250 ms", pct(metrics, 99) <= 250);
      row("  … GET /api/runs, p50 / p99", String.format("%.1f / %.1f ms", pct(list, 50), pct(list, 99)), "p99 ≤ 250 ms",
          pct(list, 99) <= 250);
      row("  … GET /api/sweeps/{id}, p50 / p99", String.format("%.1f / %.1f ms", pct(ranking, 50), pct(ranking, 99)),
          "p99 ≤ 250 ms", pct(ranking, 99) <= 250);
    } finally {
      await(s.close());
    }
  }

  private double timeGet(Server s, String path) throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) throw new IllegalStateException(path + ": " + r.statusCode());
    return (System.nanoTime() - t0) / 1e6;
  }

  private static double pct(List<Double> v, int p) {
    if (v.isEmpty()) return Double.NaN;
    List<Double> s = v.stream().sorted().toList();
    return s.get(Math.min(s.size() - 1, (int) Math.ceil(p / 100.0 * s.size()) - 1));
  }

  private void metricsAndMemory() throws Exception {
    out.println("metrics and memory");
    Server s = server(ServerConfig.defaults().toBuilder().maxRuns(5000).maxMetricRuns(5000));
    try {
      long heap0 = heapAfterGc();
      int created = 0;
      for (int target : quick ? new int[] {1000} : new int[] {1000, 10_000}) {
        while (series(s) < target) {
          for (int i = 0; i < 50; i++) create(s, String.format(ROSENBROCK, 100_000_000, ",\"steps_per_second\":1"));
          created += 50;
          Thread.sleep(1200);   // each run takes a step, which brings its diagnosis series
        }
        long n = series(s);
        for (int i = 0; i < 300; i++) series(s);   // warm-up: the JIT compiles the scrape path first
        double[] ms = new double[30];
        for (int i = 0; i < ms.length; i++) {
          long t = System.nanoTime();
          http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/metrics")).build(),
              HttpResponse.BodyHandlers.discarding());
          ms[i] = (System.nanoTime() - t) / 1e6;
        }
        Arrays.sort(ms);
        double limit = target <= 1000 ? 2 : 20;
        row("/metrics with " + n + " series, median of 30 scrapes", String.format("%.1f ms (p90 %.1f)", ms[15], ms[27]),
            "≤ " + (int) limit + " ms", ms[15] <= limit);
      }
      long perRun = (heapAfterGc() - heap0) / created;
      row("heap per run (paced, live, with its meters and window)", String.format("%.1f KiB (%d runs)", perRun / 1024.0, created),
          "reported", true);
      for (Run r : s.manager().runs().unordered()) s.manager().delete(r);
      int idle = quick ? 1000 : 10_000;
      long before = heapAfterGc();
      CompletableFuture<Map<?, ?>> gen = CompletableFuture.supplyAsync(() -> {
        try {
          return loadGenerator(s.port(), idle, 10, "live", true);
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      while (s.meters().wsClients().get() < idle && !gen.isDone()) Thread.sleep(100);
      long during = heapAfterGc();
      int connected = s.meters().wsClients().get();
      gen.get(5, TimeUnit.MINUTES);
      row("heap per idle WebSocket subscriber", String.format("%.1f KiB (%d connected)", (during - before) / 1024.0 / Math.max(1, connected),
          connected), "reported", true);
      row(connected + " idle subscribers in this heap", String.format("%d MiB used of %d MiB", during >> 20,
          Runtime.getRuntime().maxMemory() >> 20), "fit in 2 GiB", connected >= idle && Runtime.getRuntime().maxMemory() <= (2L << 30) + (64 << 20));
    } finally {
      await(s.close());
    }
  }

  /**
   * Clients that subscribe to every run and never read (issue 19.5): 4,000 finished runs, 2,000 such clients (from
   * the load generator, another process), and /health timed every 100 ms from when they connect until the server
   * cut them off (a client that answers no ping for 10 s is cut).
   */
  private void wildcard() throws Exception {
    out.println("stalled \"*\" subscribers");
    int runs = quick ? 1000 : 4000;
    int clients = quick ? 500 : 2000;
    Server s = server(ServerConfig.defaults().toBuilder().maxRuns(runs + 10).maxClients(clients + 10));
    try {
      for (int i = 0; i < runs; i++) {
        String id = create(s, "{\"source\":\"external\",\"name\":\"r" + i + "\"}");
        post(s, "/api/runs/" + id + "/steps", "{\"step\":[1,2,3],\"loss\":[3,2,1]}");
        post(s, "/api/runs/" + id + "/finish", "{\"state\":\"finished\"}");
      }
      List<Double> quiet = new ArrayList<>();   // the runs ended and retired, nobody subscribed: the baseline
      for (int i = 0; i < 50; i++) {
        long t = System.nanoTime();
        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/health")).build(),
            HttpResponse.BodyHandlers.discarding());
        quiet.add((System.nanoTime() - t) / 1e6);
        Thread.sleep(100);
      }
      row("/health with " + runs + " runs, no subscriber", String.format("median %.1f ms, max %.0f ms",
          pct(quiet, 50), pct(quiet, 100)), "reported", true);
      List<Double> health = new ArrayList<>();
      CompletableFuture<Map<?, ?>> gen = CompletableFuture.supplyAsync(() -> {
        try {
          return loadGenerator(s.port(), 0, 15, "live", false, clients, 0);
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      int peak = 0;
      while (!gen.isDone()) {
        long t = System.nanoTime();
        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/health")).build(),
            HttpResponse.BodyHandlers.discarding());
        health.add((System.nanoTime() - t) / 1e6);
        peak = Math.max(peak, s.meters().wsClients().get());
        Thread.sleep(100);
      }
      gen.get();
      row("/health with " + clients + " stalled \"*\" subscribers and " + runs + " runs", String.format(
          "median %.1f ms, p99 %.0f ms, max %.0f ms (%d probes, %d connected at most)", pct(health, 50), pct(health, 99),
          pct(health, 100), health.size(), peak), "≤ 100 ms", pct(health, 99) <= 100);
    } finally {
      await(s.close());
    }
  }

  /**
   * Slow request bodies (issue 19.6): connections that each send an append's head declaring 4 MiB and then 4 MiB − 1
   * of it, and hold. The heap they make the server keep (after GC, the bench's own sockets are a few KiB), and how
   * long /health takes meanwhile, probed every 100 ms from another thread.
   */
  private void flood() throws Exception {
    out.println("slow request bodies");
    int n = quick ? 200 : 1000;
    int declared = 4 * 1024 * 1024;
    Server s = server(ServerConfig.defaults().toBuilder());
    List<java.net.Socket> socks = new ArrayList<>();
    List<Double> health = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.atomic.AtomicBoolean flooding = new java.util.concurrent.atomic.AtomicBoolean(true);
    Thread prober = new Thread(() -> {
      while (flooding.get()) {
        try {
          long t = System.nanoTime();
          http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/health")).build(),
              HttpResponse.BodyHandlers.discarding());
          health.add((System.nanoTime() - t) / 1e6);
          Thread.sleep(100);
        } catch (Exception e) {
          return;
        }
      }
    });
    try {
      String id = create(s, "{\"source\":\"external\",\"name\":\"flood\"}");
      long base = heapAfterGc();
      prober.start();
      byte[] chunk = new byte[64 * 1024];
      Arrays.fill(chunk, (byte) ' ');
      byte[] head = ("POST /api/runs/" + id + "/steps HTTP/1.1\r\nHost: 127.0.0.1:" + s.port() + "\r\nContent-Type: "
          + "application/json\r\nContent-Length: " + declared + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
      int cut = 0;
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        java.net.Socket k = new java.net.Socket("127.0.0.1", s.port());
        socks.add(k);
        try {
          k.getOutputStream().write(head);
          for (int sent = 0; sent < declared - 1; sent += chunk.length) {
            k.getOutputStream().write(chunk, 0, Math.min(chunk.length, declared - 1 - sent));
          }
        } catch (java.io.IOException closed) {
          cut++;   // the server closed it: its body's time was up
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      long held = heapAfterGc() - base;
      flooding.set(false);
      prober.join();
      row(n + " connections sending 4 MiB − 1 of 4 MiB and holding: heap kept (after GC)",
          String.format("%d MiB (%.0f s to send, %d cut off)", held >> 20, seconds, cut), "≤ 96 MiB", held <= 96L << 20);
      row("  /health meanwhile, every 100 ms", String.format("median %.1f ms, max %.0f ms (%d probes)",
          pct(health, 50), pct(health, 100), health.size()), "≤ 100 ms", pct(health, 100) <= 100);
    } finally {
      flooding.set(false);
      for (java.net.Socket k : socks) k.close();
      await(s.close());
    }
  }

  private long series(Server s) throws Exception {
    String text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    return text.lines().filter(l -> !l.isEmpty() && !l.startsWith("#")).count();
  }
}
