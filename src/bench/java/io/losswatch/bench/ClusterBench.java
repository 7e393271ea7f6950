package io.losswatch.bench;

import io.losswatch.core.config.Json;
import io.losswatch.event.ClusterSummary;
import io.losswatch.event.Codecs;
import io.losswatch.core.RunSpec;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.losswatch.event.WireCodec;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code bench --only=cluster}: the same loads as ws-all and ws-live with the runs on node A and the subscribers on
 * node B, beside the same on one node; the wire codec alone; and how soon a killed node's runs show as lost on
 * another. The nodes are {@code serve} processes of losswatch.jar on loopback (free ports, fresh data folders), and the
 * subscribers are never in a node's process: all mode is this one, live mode the load generator's.
 */
final class ClusterBench {
  private static final String RUN =
      "{\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":\"adam\",\"lr\":0.001},\"steps\":%d%s}";
  /** ws-all's second pace. */
  private static final String PACE_300K = ",\"steps_per_second\":300000";
  private static final long PACED_STEPS = 200_000;
  /** The demo gallery's load (12 runs at 20 steps/s) as plain runs, so the all-mode part runs without it. */
  private static final String PACED = String.format(RUN, 10_000_000, ",\"steps_per_second\":20");
  private static final int GALLERY = 12;
  private static final int BATCH = 4096;
  private static final int KILLS = 5;
  private static final Set<Integer> TAKEN = new HashSet<>();
  private static volatile long sink;
  /** The scale-out rows' load: runs over 3 nodes, unthrottled, that outlast the measurement. */
  private static final int SCALE_RUNS = 30;
  private static final String UNTHROTTLED = String.format(RUN, 100_000_000, "");
  /** A step's bytes on the wire, as the codec row measured them. */
  private double wireBytesPerStep = 40;   // what the codec loop computed: the JIT must not drop the calls
  private final BenchCommand bench;
  private final String cluster = "losswatch-bench-" + ProcessHandle.current().pid();   // no stray node joins
  /** The bench's nodes' shared secret (issue 19: a cluster needs one), handed over in their environment. */
  private final String secret = java.util.UUID.randomUUID() + "-" + java.util.UUID.randomUUID();
  private final List<Node> nodes = new ArrayList<>();

  ClusterBench(BenchCommand bench) {
    this.bench = bench;
  }

  /** A {@code serve} process of this build: its own free ports, data folder and log. */
  private static final class Node {
    final String name;
    final int port = freePort();
    final int hazelcast = freePort();
    final Path dir;
    Process process;

    Node(String name) throws IOException {
      this.name = name;
      dir = Files.createTempDirectory("losswatch-bench-" + name);
    }

    /** SIGKILL on Linux (an unfinished bench must not leave nodes behind), then its folder goes too. */
    void close() {
      try {
        if (process != null) {
          process.destroyForcibly();
          process.waitFor(10, TimeUnit.SECONDS);
        }
        try (Stream<Path> files = Files.walk(dir)) {
          files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
      } catch (IOException | InterruptedException e) {
        // best effort: the rest still close
      }
    }
  }

  void run() throws Exception {
    run(false);
  }

  /** {@code --only=cluster-catchup}: a finished run's history streamed to an all-mode subscriber, on its node and on another. */
  void catchUpOnly() throws Exception {
    withNodes(() -> {
      Node a = new Node("a");
      Node b = new Node("b");
      start(a, List.of(a, b));
      start(b, List.of(a, b));
      ready(a);
      ready(b);
      catchUp(a, b);
    });
  }

  /** {@code scaleOnly} ({@code --only=cluster-scale}): the codec and the 3-node scale-out rows alone (issue 26). */
  void run(boolean scaleOnly) throws Exception {
    withNodes(() -> {
      codec();
      Node one = new Node("one");
      Node a = new Node("a");
      Node b = new Node("b");
      if (!scaleOnly) start(one, List.of());
      start(a, List.of(a, b));
      start(b, List.of(a, b));
      for (Node n : scaleOnly ? List.of(a, b) : List.of(one, a, b)) ready(n);
      if (!scaleOnly) {
        // one node first, then it stops: an idle node costs little, one with 12 paced runs would not
        List<Delivered> allAlone = allMode(one, one);
        Map<?, ?> liveAlone = live(one, one);
        stop(one);
        List<Delivered> allAcross = allMode(a, b);
        Map<?, ?> liveAcross = live(a, b);
        rows(allAlone, allAcross, liveAlone, liveAcross);
        catchUp(a, b);
      }
      Node c = new Node("c");
      start(c, List.of(a, b, c));
      ready(c);
      scaleOut(List.of(a, b, c));
      if (!scaleOnly) failovers(a, b, c);
    });
  }

  private interface Body {
    void run() throws Exception;
  }

  /** Runs {@code body}; whatever happens, no node outlives it (Ctrl-C as well), and a failure prints their logs' ends. */
  private void withNodes(Body body) throws Exception {
    bench.out.println("cluster");
    Thread hook = new Thread(this::closeAll);
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      body.run();
    } catch (Exception e) {
      synchronized (nodes) {
        for (Node n : nodes) bench.out.println("node " + n.name + ", the end of its log:\n" + tail(n));
      }
      throw e;
    } finally {
      closeAll();
      Runtime.getRuntime().removeShutdownHook(hook);
    }
  }

  private void rows(List<Delivered> allAlone, List<Delivered> allAcross, Map<?, ?> liveAlone, Map<?, ?> liveAcross) {
    long steps = bench.quick ? 200_000 : 1_000_000;
    for (int i = 0; i < 2; i++) {
      Delivered one = allAlone.get(i);
      Delivered two = allAcross.get(i);
      String label = "all mode, 1 subscriber, "
          + (i == 0 ? steps / 1000 + "k steps unthrottled" : PACED_STEPS / 1000 + "k steps paced 300k/s");
      String measured = String.format("%.0fk | %.0fk steps/s%s", one.rate / 1000, two.rate / 1000,
          one.whole && two.whole ? ", every step" : ", STEPS MISSING");
      if (i == 0) {
        bench.row(label + ": one node | run on A, subscriber on B", measured, "≥ 250k/s, every step",
            two.rate >= 250_000 && two.whole);
      } else {   // the producer sets the pace here: only "every step, in order" is judged
        bench.row(label, measured, "every step", one.whole && two.whole);
      }
      bench.row("  … cores taken meanwhile: the node | A, B; the subscriber's process",
          String.format("%.2f | %.2f, %.2f; %.2f | %.2f", one.ownerCores, two.ownerCores, two.viewerCores,
              one.subscriberCores, two.subscriberCores), "reported", true);
    }
    int clients = bench.quick ? 200 : 1000;
    bench.row(clients + " live subscribers (+5 that never read) × 12 runs at 20 steps/s, step → client, p50: "
        + "one node | A → B",
        String.format("%.0f | %.0f ms", num(liveAlone, "p50_ms"), num(liveAcross, "p50_ms")), "reported", true);
    bench.row("  … p99", String.format("%.0f | %.0f ms", num(liveAlone, "p99_ms"), num(liveAcross, "p99_ms")),
        "≤ 50 ms", num(liveAcross, "p99_ms") <= 50);
    bench.row("  … frames received", String.format("%.0f | %.0f /s", num(liveAlone, "messages_per_s"),
        num(liveAcross, "messages_per_s")), "reported", true);
  }

  private static double num(Map<?, ?> m, String key) {
    return ((Number) m.get(key)).doubleValue();
  }

  /**
   * The wire codec alone, in this process: encode and decode a 4,096-step batch (what a hop to another node costs
   * its two ends), beside the local path, which hands every consumer on the node the same instance (transform).
   */
  private void codec() {
    WireCodec<StepBatch> codec = Codecs.wire(StepBatch.class);
    StepBatch.Builder builder = new StepBatch.Builder(BATCH);
    for (int i = 1; i <= BATCH; i++) builder.add(i, 1.0 / i, 0.001, 2.0 / i, 1_700_000_000_000L + i);
    StepBatch batch = builder.build("codecrun");
    int bytes = codec.encode(batch).length();
    wireBytesPerStep = (double) bytes / BATCH;
    IntSupplier wire = () -> codec.decode(codec.encode(batch)).size();
    IntSupplier local = () -> codec.transform(batch).size();
    perSecond(wire, 1, 1);   // warm-up
    double wired = perSecond(wire, 1, 2);
    perSecond(local, 10_000, 1);
    double byReference = perSecond(local, 10_000, 1);
    bench.row("codec: a 4,096-step StepBatch, encode + decode | local (the same instance)",
        String.format("%.1f M steps/s (%.0f µs, %.1f B/step) | %.1f ns a batch", wired * BATCH / 1e6, 1e6 / wired,
            (double) bytes / BATCH, 1e9 / byReference), "≥ 1 M steps/s", wired * BATCH >= 1e6);
    // a summary, as every node takes one a run a second (issue 26): a fresh run's, without a diagnosis or metrics yet
    WireCodec<ClusterSummary> summaries = Codecs.wire(ClusterSummary.class);
    ClusterSummary summary = new ClusterSummary(RunSummary.created("codecrun",
        RunSpec.parse(String.format(RUN, 1000, "")), 1_700_000_000_000L), Map.of());
    IntSupplier told = () -> summaries.decode(summaries.encode(summary)).summary().cycle() + 1;
    perSecond(told, 100, 1);
    double perSummary = perSecond(told, 100, 1);
    bench.row("codec: a fresh run's summary as told to the other nodes, encode + decode", String.format("%.1f µs, %d B",
        1e6 / perSummary, summaries.encode(summary).length()), "reported", true);
  }

  /** Calls of {@code f} a second over {@code seconds}, reading the clock every {@code per} calls. */
  private static double perSecond(IntSupplier f, int per, double seconds) {
    long sum = 0;
    long calls = 0;
    long t0 = System.nanoTime();
    long elapsed;
    while ((elapsed = System.nanoTime() - t0) < seconds * 1e9) {
      for (int i = 0; i < per; i++) sum += f.getAsInt();
      calls += per;
    }
    sink = sum;
    return calls / (elapsed / 1e9);
  }

  /** Starts {@code n} alone, or as a member of this bench's cluster with {@code members} (itself among them). */
  private void start(Node n, List<Node> members) throws Exception {
    List<String> cmd = new ArrayList<>(losswatch());
    cmd.addAll(List.of("serve", "--port", String.valueOf(n.port), "--demo", "none",
        "--data-dir", n.dir.resolve("data").toString()));
    if (!members.isEmpty()) {
      cmd.addAll(List.of("--cluster", "--cluster-name", cluster, "--cluster-host", "127.0.0.1", "--cluster-port",
          String.valueOf(n.hazelcast), "--node-name", n.name, "--cluster-members",
          members.stream().map(m -> "127.0.0.1:" + m.hazelcast).collect(Collectors.joining(","))));
    }
    synchronized (nodes) {
      nodes.add(n);
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(n.dir.resolve("log").toFile());
      pb.environment().put("LOSSWATCH_CLUSTER_SECRET", secret);
      n.process = pb.start();
    }
  }

  /**
   * losswatch's own command line with the bench's documented 2 GiB heap: its Main on this class path (losswatch.jar,
   * which the bench jar names, or the class folders in tests).
   */
  private static List<String> losswatch() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return List.of(java, "-Xmx2g", "-cp", BenchCommand.classPath(), "io.losswatch.Main");
  }

  /** Waits until the node answers (a clustered one has joined by then); its log's end if it exits instead. */
  private void ready(Node n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);   // as serve gives a joining node
    while (true) {
      if (!n.process.isAlive()) throw new IllegalStateException("node " + n.name + " exited: " + tail(n));
      try {
        if (get(n, "/health").statusCode() == 200) return;
      } catch (IOException e) {
        // not listening yet
      }
      if (System.nanoTime() > deadline) throw new IllegalStateException("node " + n.name + " did not start in 300 s");
      Thread.sleep(100);
    }
  }

  private static String tail(Node n) {
    try {
      List<String> log = Files.readAllLines(n.dir.resolve("log"));
      return String.join("\n", log.subList(Math.max(0, log.size() - 15), log.size()));
    } catch (IOException e) {
      return e.toString();
    }
  }

  private void stop(Node n) {
    synchronized (nodes) {
      nodes.remove(n);
    }
    n.close();
  }

  private void closeAll() {
    synchronized (nodes) {
      for (Node n : nodes) n.close();
      nodes.clear();
    }
  }

  private HttpResponse<String> get(Node n, String path) throws Exception {
    return bench.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A run owned by node {@code n} ({@code ?here=true}: the rows measure what each owner sends, so none is placed). */
  private String create(Node n, String spec) throws Exception {
    String body = bench.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.port + "/api/runs?here=true"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(spec)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    return (String) ((Map<?, ?>) Json.parse(body)).get("id");
  }

  /** The run's state as node {@code n} tells it; null while it does not know the run. */
  private String state(Node n, String id) throws Exception {
    HttpResponse<String> r = get(n, "/api/runs/" + id);
    return r.statusCode() == 200 ? (String) ((Map<?, ?>) Json.parse(r.body())).get("state") : null;
  }

  /** Steps a second to the subscriber, all of them in order or not, and the cores each process took meanwhile. */
  private record Delivered(double rate, boolean whole, double ownerCores, double viewerCores, double subscriberCores) {
  }

  /**
   * One all-mode subscriber (this process, one connection) on {@code viewer} to runs on {@code owner}, as ws-all
   * counts them (steps a second from a run's first to its last): a 200k-step one to warm up, then one unthrottled
   * and one paced at 300k/s, which are returned.
   */
  private List<Delivered> allMode(Node owner, Node viewer) throws Exception {
    Vertx client = Vertx.vertx();
    try {
      AtomicReference<Tally> tally = new AtomicReference<>();
      WebSocket ws = client.createWebSocketClient(new WebSocketClientOptions().setMaxMessageSize(1 << 22)).webSocket()
          .textMessageHandler(text -> {
            if (text.startsWith("{\"type\":\"steps\"")) tally.get().add(text);
          })
          .connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(viewer.port).setURI("/ws"))
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      ws.writeTextMessage("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"all\"}")
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      Thread.sleep(200);
      long steps = bench.quick ? 200_000 : 1_000_000;
      if (!bench.quick) deliver(owner, viewer, tally, 200_000, "");
      List<Delivered> measured = List.of(deliver(owner, viewer, tally, steps, ""),
          deliver(owner, viewer, tally, PACED_STEPS, PACE_300K));
      // closed first: with it open, the client's close took over 20 s
      ws.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      return measured;
    } finally {
      client.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
  }

  /** One run, started once the one before has arrived whole: every steps message until its last is its own. */
  private Delivered deliver(Node owner, Node viewer, AtomicReference<Tally> tally, long steps, String pace)
      throws Exception {
    Tally t = new Tally(steps);
    tally.set(t);
    double[] cpu0 = {cpu(owner.process.toHandle()), cpu(viewer.process.toHandle()), cpu(ProcessHandle.current())};
    long t0 = System.nanoTime();
    create(owner, String.format(RUN, steps, pace));
    try {
      t.done.get(2, TimeUnit.MINUTES);
    } catch (TimeoutException e) {
      throw new IllegalStateException("subscriber on node " + viewer.name + ": " + t.received + " of " + steps
          + " steps in 2 minutes, the last " + t.lastStep + ", " + t.disorder + " out of order");
    }
    double wall = (System.nanoTime() - t0) / 1e9;
    return new Delivered(t.received / ((t.end - t.first) / 1e9), t.received == steps && t.disorder == 0,
        (cpu(owner.process.toHandle()) - cpu0[0]) / wall, (cpu(viewer.process.toHandle()) - cpu0[1]) / wall,
        (cpu(ProcessHandle.current()) - cpu0[2]) / wall);
  }

  /** CPU seconds the process has taken so far (its every thread). */
  private static double cpu(ProcessHandle p) {
    return p.info().totalCpuDuration().map(c -> c.toNanos() / 1e9).orElse(Double.NaN);
  }

  /**
   * One run's steps messages, read on the client's event loop. Done at the run's last step, not at its "finished"
   * summary: a summary does not wait for steps that a mirror or a lagging client is still reading.
   */
  private static final class Tally {
    final long steps;
    final CompletableFuture<Void> done = new CompletableFuture<>();
    volatile long received;
    volatile long lastStep;
    long disorder;
    long first;
    long end;

    Tally(long steps) {
      this.steps = steps;
    }

    /** A binary steps message (BinaryWire): each block's step count and first step. */
    void add(io.vertx.core.buffer.Buffer b) {
      if (b.getUnsignedByte(1) != 1) return;   // frames and overviews: not all mode's steps
      if (first == 0) first = System.nanoTime();
      int at = 16;
      for (long k = b.getUnsignedIntLE(4); k > 0; k--) {
        int n = b.getIntLE(at + 4);
        long s0 = b.getLongLE(at + 8);
        if (s0 != lastStep + 1) disorder++;
        lastStep = s0 + n - 1;
        received += n;
        at += b.getIntLE(at);
      }
      if (lastStep == steps) {
        end = System.nanoTime();
        done.complete(null);
      }
    }

    void add(String text) {
      if (first == 0) first = System.nanoTime();
      int at = text.indexOf("\"step\":[") + 8;
      String[] ss = text.substring(at, text.indexOf(']', at)).split(",");
      if (Long.parseLong(ss[0]) != lastStep + 1) disorder++;
      lastStep = Long.parseLong(ss[ss.length - 1]);
      received += ss.length;
      if (lastStep == steps) {
        end = System.nanoTime();
        done.complete(null);
      }
    }
  }

  /**
   * A finished run's whole history to one all-mode subscriber from step 1, text and binary: a catching-up client reads
   * it a chunk at a time, from its node's history, or, on another node, from the owner (a round trip a chunk).
   */
  private void catchUp(Node owner, Node viewer) throws Exception {
    long steps = bench.quick ? 200_000 : 1_000_000;
    String run = created(owner, String.format(RUN, steps, ""));
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (!"finished".equals(state(owner, run)) || !"finished".equals(state(viewer, run))) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("the run did not finish in 5 minutes");
      Thread.sleep(100);
    }
    streamWhole(owner, owner, run, steps, false);   // warm-up: the history's file read once, the code paths compiled
    streamWhole(owner, viewer, run, steps, false);
    for (boolean binary : new boolean[] {false, true}) {
      Delivered here = streamWhole(owner, owner, run, steps, binary);
      Delivered across = streamWhole(owner, viewer, run, steps, binary);
      bench.row(String.format("catch-up, %s: a finished %dk-step run from step 1 to 1 all subscriber: on its node | on"
          + " another", binary ? "binary" : "text", steps / 1000),
          String.format("%.2f s (%.0fk/s) | %.2f s (%.0fk/s)%s", steps / here.rate, here.rate / 1000, steps / across.rate,
              across.rate / 1000, here.whole && across.whole ? ", every step" : ", STEPS MISSING"),
          "every step", here.whole && across.whole);
      bench.row("  … cores taken meanwhile: the node | A, B; the subscriber's process",
          String.format("%.2f | %.2f, %.2f; %.2f | %.2f", here.ownerCores, across.ownerCores, across.viewerCores,
              here.subscriberCores, across.subscriberCores), "reported", true);
    }
    bench.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + owner.port + "/api/runs/" + run)).DELETE()
        .build(), HttpResponse.BodyHandlers.discarding());
  }

  /** One all-mode subscriber on {@code viewer} to finished run {@code run}, from step 1 until its last: steps a second. */
  private Delivered streamWhole(Node owner, Node viewer, String run, long steps, boolean binary) throws Exception {
    Vertx client = Vertx.vertx();
    try {
      Tally t = new Tally(steps);
      // held until the end: Vert.x closes a client that is no longer referenced
      io.vertx.core.http.WebSocketClient wsClient = client.createWebSocketClient(
          new WebSocketClientOptions().setMaxMessageSize(1 << 22));
      WebSocket ws = wsClient.webSocket()
          .textMessageHandler(text -> {
            if (text.startsWith("{\"type\":\"steps\"")) t.add(text);
          })
          .binaryMessageHandler(t::add)
          .connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(viewer.port).setURI("/ws"))
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      double[] cpu0 = {cpu(owner.process.toHandle()), cpu(viewer.process.toHandle()), cpu(ProcessHandle.current())};
      long t0 = System.nanoTime();
      t.first = t0;   // from the subscription: its first chunk's read is part of catching up
      ws.writeTextMessage("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"all\""
          + (binary ? ",\"format\":\"binary\"" : "") + "}");
      try {
        t.done.get(5, TimeUnit.MINUTES);
      } catch (TimeoutException e) {
        throw new IllegalStateException("subscriber on node " + viewer.name + ": " + t.received + " of " + steps
            + " steps in 5 minutes");
      }
      double wall = (System.nanoTime() - t0) / 1e9;
      Delivered d = new Delivered(t.received / ((t.end - t.first) / 1e9), t.received == steps && t.disorder == 0,
          (cpu(owner.process.toHandle()) - cpu0[0]) / wall, (cpu(viewer.process.toHandle()) - cpu0[1]) / wall,
          (cpu(ProcessHandle.current()) - cpu0[2]) / wall);
      ws.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      wsClient.close();
      return d;
    } finally {
      client.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
  }

  /** ws-live's load, its runs on {@code owner} and its subscribers (the load generator's process) on {@code viewer}. */
  private Map<?, ?> live(Node owner, Node viewer) throws Exception {
    for (int i = 0; i < GALLERY; i++) create(owner, PACED);
    // warmed in the generator's own process, which stays connected: ws-live's separate 30 s would not fit 3 minutes
    return bench.loadGenerator(viewer.port, bench.quick ? 200 : 1000, bench.quick ? 5 : 15, "live", false, 5,
        bench.quick ? 1 : 15);
  }

  /**
   * Five times: a paced run on A, SIGKILL A, and the time until B's REST shows the run lost (polled every 10 ms); a
   * fresh node then takes A's place (new ports and folder: nothing of the killed one lingers).
   */
  private void failovers(Node a, Node b, Node c) throws Exception {
    double[] ms = new double[KILLS];
    for (int i = 0; i < KILLS; i++) {
      ms[i] = failover(a, b);
      stop(a);
      if (i == KILLS - 1) break;
      a = new Node("a" + (i + 2));
      start(a, List.of(a, b, c));
      ready(a);
    }
    double[] sorted = ms.clone();
    Arrays.sort(sorted);
    bench.row("failover: SIGKILL of A → its paced run lost on B (of 3 nodes; polled every 10 ms), median / max of "
        + KILLS, String.format("%.0f / %.0f ms", sorted[KILLS / 2], sorted[KILLS - 1]), "reported", true);
    bench.out.println("    each kill, ms: " + Arrays.toString(Arrays.stream(ms).mapToLong(Math::round).toArray()));
  }

  private double failover(Node owner, Node viewer) throws Exception {
    String id = create(owner, PACED);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!"running".equals(state(viewer, id))) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("node " + viewer.name + " never showed " + id);
      Thread.sleep(10);
    }
    long t0 = System.nanoTime();
    owner.process.destroyForcibly();
    while (!"lost".equals(state(viewer, id))) {
      if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(60)) throw new IllegalStateException(id + " never lost");
      Thread.sleep(10);
    }
    return (System.nanoTime() - t0) / 1e6;
  }

  /**
   * Issue 26: 30 unthrottled runs spread over 3 nodes and no subscriber: what each node takes in from the others
   * (Vert.x's own event-bus byte counts, every address) beside what one owner's runs' steps would take on the wire;
   * then one {@code all} subscriber on B to one of A's runs: B takes in that run's steps only.
   */
  private void scaleOut(List<Node> three) throws Exception {
    Map<Node, List<String>> owned = new java.util.LinkedHashMap<>();
    for (int i = 0; i < SCALE_RUNS; i++) {
      Node n = three.get(i % three.size());
      owned.computeIfAbsent(n, k -> new ArrayList<>()).add(created(n, UNTHROTTLED));
    }
    for (Node n : three) {   // every node lists every run
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      for (List<String> ids : owned.values()) {
        for (String id : ids) {
          while (!"running".equals(state(n, id))) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("node " + n.name + " never listed " + id);
            Thread.sleep(20);
          }
        }
      }
    }
    long window = bench.quick ? 5_000 : 10_000;
    Thread.sleep(2_000);   // past the runs' start
    Traffic quiet = traffic(three, owned, window);
    double leastOwner = Double.MAX_VALUE;
    for (Node n : three) leastOwner = Math.min(leastOwner, quiet.stepBytes.get(n));
    StringBuilder in = new StringBuilder();
    StringBuilder summaries = new StringBuilder();
    double worst = 0;
    double mostSummaries = 0;
    for (Node n : three) {
      Map<String, double[]> got = quiet.read.get(n);
      double all = got.values().stream().mapToDouble(v -> v[0]).sum();
      worst = Math.max(worst, all / leastOwner);
      double[] told = got.getOrDefault("losswatch.cluster", new double[2]);
      double others = SCALE_RUNS - owned.get(n).size();
      mostSummaries = Math.max(mostSummaries, told[1] / others);
      in.append(String.format("%s%s %.1f kB/s", in.length() == 0 ? "" : ", ", n.name, all / 1e3));
      summaries.append(String.format("%s%s %.2f (%.0f B each)", summaries.length() == 0 ? "" : ", ", n.name,
          told[1] / others, told[1] == 0 ? 0 : told[0] / told[1]));
    }
    bench.row(three.size() + " nodes, " + SCALE_RUNS + " unthrottled runs, no subscriber: each node's inbound event-bus"
        + " bytes (every address) | the least owner's step bytes (" + String.format("%.1f", wireBytesPerStep)
        + " B a step)", String.format("%s | %.1f MB/s: at most %.3f%%", in, leastOwner / 1e6, 100 * worst),
        "≤ 1%", worst <= 0.01);
    bench.row("  … summaries a run a second, as each node took in the others' runs'", summaries.toString(), "≤ 1",
        mostSummaries <= 1.05);
    StringBuilder rates = new StringBuilder();
    for (Node n : three) {
      rates.append(String.format("%s%s %.0fk steps/s, %.2f cores", rates.length() == 0 ? "" : ", ", n.name,
          quiet.stepBytes.get(n) / wireBytesPerStep / 1e3, quiet.cores.get(n)));
    }
    bench.row("  … the owners' runs meanwhile", rates.toString(), "reported", true);
    follow(three, owned);
    for (Map.Entry<Node, List<String>> e : owned.entrySet()) {
      for (String id : e.getValue()) {
        bench.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + e.getKey().port + "/api/runs/" + id))
            .DELETE().build(), HttpResponse.BodyHandlers.discarding());
      }
    }
  }

  /** Creates a run on {@code n}, asking again while the node answers 503 (busy); fails with any other answer. */
  private String created(Node n, String spec) throws Exception {
    for (int attempt = 0; ; attempt++) {
      HttpResponse<String> r = bench.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.port + "/api/runs?here=true"))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(spec)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 201) return (String) ((Map<?, ?>) Json.parse(r.body())).get("id");
      if (r.statusCode() != 503 || attempt == 20) {
        throw new IllegalStateException("node " + n.name + " did not create a run: " + r.statusCode() + " " + r.body());
      }
      Thread.sleep(500);
    }
  }

  /** One {@code all} subscriber on B to one of A's runs, once it caught up: what A, B and C take in meanwhile. */
  private void follow(List<Node> three, Map<Node, List<String>> owned) throws Exception {
    Node a = three.get(0);
    Node b = three.get(1);
    String run = owned.get(a).get(0);
    Vertx client = Vertx.vertx();
    try {
      Tally t = new Tally(Long.MAX_VALUE);
      WebSocket ws = client.createWebSocketClient(new WebSocketClientOptions().setMaxMessageSize(1 << 22)).webSocket()
          .textMessageHandler(text -> {
            if (text.startsWith("{\"type\":\"steps\"")) t.add(text);
          })
          .connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(b.port).setURI("/ws"))
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      // from the run's step now: these rows measure what follows, not the catch-up (cluster-catchup does)
      long target = step(a, run);
      t.lastStep = target - 1;
      ws.writeTextMessage("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"all\",\"from_step\":"
          + target + "}").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      target += 1000;
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
      while (t.lastStep < target) {   // its history first, read from A
        if (System.nanoTime() > deadline) throw new IllegalStateException("the subscriber on B never caught up: " + t.lastStep);
        Thread.sleep(50);
      }
      Traffic f = traffic(three, owned, bench.quick ? 5_000 : 10_000);
      double[] bSteps = f.read.get(b).getOrDefault("losswatch.node.*.steps", new double[2]);
      double[] cSteps = f.read.get(three.get(2)).getOrDefault("losswatch.node.*.steps", new double[2]);
      double theRun = f.runStepBytes.get(run);
      double ratio = bSteps[0] / theRun;
      ws.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      bench.row("  … then 1 all subscriber on B to a run on A: B's inbound step bytes | that run's | A's runs'",
          String.format("%.2f | %.2f | %.2f MB/s (%.2f× that run's; C: %.0f B/s); every step once: %s",
              bSteps[0] / 1e6, theRun / 1e6, f.stepBytes.get(a) / 1e6, ratio, cSteps[0],
              t.disorder == 0 ? "yes" : "NO"),
          "that run's only", ratio >= 0.8 && ratio <= 1.5 && cSteps[0] == 0 && t.disorder == 0);
    } finally {
      client.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
  }

  /**
   * A window's traffic, a second: what each node read from the others by address family ([bytes, messages]), each
   * owner's runs' steps as wire bytes, each followed run's, and each node's cores.
   */
  private record Traffic(Map<Node, Map<String, double[]>> read, Map<Node, Double> stepBytes,
      Map<String, Double> runStepBytes, Map<Node, Double> cores) {
  }

  /** Each figure over its own span (a node's scrapes, a run's reads): on a busy machine the requests take seconds. */
  private Traffic traffic(List<Node> three, Map<Node, List<String>> owned, long ms) throws Exception {
    Map<Node, Map<String, double[]>> read0 = new java.util.HashMap<>();
    Map<Node, Long> readAt = new java.util.HashMap<>();
    Map<String, long[]> steps0 = new java.util.HashMap<>();   // step, when
    Map<Node, double[]> cpu0 = new java.util.HashMap<>();     // cpu, when
    for (Node n : three) {
      readAt.put(n, System.nanoTime());
      read0.put(n, busRead(n));
      cpu0.put(n, new double[] {cpu(n.process.toHandle()), System.nanoTime()});
      for (String id : owned.get(n)) steps0.put(id, new long[] {step(n, id), System.nanoTime()});
    }
    Thread.sleep(ms);   // the measurement window
    Traffic t = new Traffic(new java.util.HashMap<>(), new java.util.HashMap<>(), new java.util.HashMap<>(),
        new java.util.HashMap<>());
    for (Node n : three) {
      double dt = (System.nanoTime() - readAt.get(n)) / 1e9;
      Map<String, double[]> now = busRead(n);
      Map<String, double[]> delta = new java.util.HashMap<>();
      now.forEach((address, v) -> {
        double[] before = read0.get(n).getOrDefault(address, new double[2]);
        delta.put(address, new double[] {(v[0] - before[0]) / dt, (v[1] - before[1]) / dt});
      });
      t.read.put(n, delta);
      double[] c0 = cpu0.get(n);
      t.cores.put(n, (cpu(n.process.toHandle()) - c0[0]) / ((System.nanoTime() - c0[1]) / 1e9));
      double sum = 0;
      for (String id : owned.get(n)) {
        long[] s0 = steps0.get(id);
        double bytes = (step(n, id) - s0[0]) * wireBytesPerStep / ((System.nanoTime() - s0[1]) / 1e9);
        t.runStepBytes.put(id, bytes);
        sum += bytes;
      }
      t.stepBytes.put(n, sum);
    }
    return t;
  }

  /** A run's step on its owner. */
  private long step(Node n, String id) throws Exception {
    return ((Number) ((Map<?, ?>) Json.parse(get(n, "/api/runs/" + id).body())).get("step")).longValue();
  }

  private static final java.util.regex.Pattern BYTES_READ = java.util.regex.Pattern.compile(
      "vertx_eventbus_bytes_read\\w*_(sum|count)\\{[^}]*address=\"([^\"]*)\"[^}]*\\} ([0-9.eE+-]+)");

  /** What node {@code n}'s event bus read from other nodes so far, by address: [bytes, messages] (Vert.x's meter). */
  private Map<String, double[]> busRead(Node n) throws Exception {
    Map<String, double[]> out = new java.util.HashMap<>();
    for (String line : get(n, "/metrics").body().split("\n")) {
      java.util.regex.Matcher m = BYTES_READ.matcher(line);
      if (!m.lookingAt()) continue;
      out.computeIfAbsent(m.group(2), k -> new double[2])[m.group(1).equals("sum") ? 0 : 1] += Double.parseDouble(m.group(3));
    }
    return out;
  }

  /** A port nothing listens on now, never one handed out before: the kernel may offer a closed one again. */
  private static synchronized int freePort() throws IOException {
    while (true) {
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        if (TAKEN.add(s.getLocalPort())) return s.getLocalPort();
      }
    }
  }
}
