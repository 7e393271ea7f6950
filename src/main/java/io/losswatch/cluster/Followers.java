package io.losswatch.cluster;

import io.losswatch.event.Alert;
import io.losswatch.event.Bucket;
import io.losswatch.event.Events;
import io.losswatch.event.Follow;
import io.losswatch.event.RunEvent;
import io.losswatch.event.StepBatch;
import io.losswatch.history.BucketPoints;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.HashMap;
import java.util.Map;

/**
 * The nodes that follow this node's runs, and what each gets: every batch of a run, or its live buckets (the
 * lowest-loss, highest-loss and last points since the last one, and its last curvature measurement, as a client's
 * live bucket has them) at the rate the node's clients watch it, and the
 * run's alerts. Nothing goes to a node for a run none of its clients follows. Runs on the cluster verticle's event
 * loop.
 */
final class Followers {
  /**
   * A live bucket goes this long before the wall clock's boundary of its interval, so it reaches the other node in
   * time for the frames it sends on that boundary; and at once when none went in the interval yet, so a slow run's
   * step never waits an interval.
   */
  static final long LEAD_MS = 3;
  /** Buckets go at most this often (a gateway sends frames every 10 ms at most). */
  static final long MIN_INTERVAL_MS = 10;
  private final Vertx vertx;
  private final DeliveryOptions fromMe;
  /** For each run of this node that is followed, its followers by node. */
  private final Map<String, Map<String, Follower>> runs = new HashMap<>();
  /** The newest word of each node about each run it followed ("run node"), so an older one arriving late is ignored. */
  private final Map<String, Long> said = new HashMap<>();

  Followers(Vertx vertx, DeliveryOptions fromMe) {
    this.vertx = vertx;
    this.fromMe = fromMe;
  }

  /** Node {@code f.node()} says what it wants of run {@code f.run()}, one of this node's; false if the word is stale. */
  boolean follow(Follow f) {
    String key = f.run() + ' ' + f.node();
    Long before = said.get(key);
    if (before != null && before >= f.seq()) return false;
    said.put(key, f.seq());
    Map<String, Follower> of = runs.computeIfAbsent(f.run(), k -> new HashMap<>());
    Follower was = of.remove(f.node());
    if (was != null) was.cancel();
    if (!f.none()) of.put(f.node(), new Follower(f.node(), f.every(), f.hz()));
    if (of.isEmpty()) runs.remove(f.run());
    return true;
  }

  void batch(StepBatch b) {
    Map<String, Follower> of = runs.get(b.run());
    if (of == null) return;
    for (Follower f : of.values()) {
      if (f.every) send(f.node, b);
      else f.add(b);
    }
  }

  void alert(Alert a) {
    Map<String, Follower> of = runs.get(a.run());
    if (of != null) for (Follower f : of.values()) send(f.node, a);
  }

  /** Run {@code run} is gone (deleted): nobody follows it any more. */
  void gone(String run) {
    Map<String, Follower> of = runs.remove(run);
    if (of != null) of.values().forEach(Follower::cancel);
    said.keySet().removeIf(k -> k.startsWith(run + ' '));
  }

  /** Node {@code node} left the cluster: it follows nothing any more. */
  void left(String node) {
    runs.values().removeIf(of -> {
      Follower f = of.remove(node);
      if (f != null) f.cancel();
      return of.isEmpty();
    });
    said.keySet().removeIf(k -> k.endsWith(' ' + node));
  }

  /** How many (run, node) follows this node serves (tests, the bench). */
  int size() {
    return runs.values().stream().mapToInt(Map::size).sum();
  }

  private void send(String node, RunEvent e) {
    vertx.eventBus().send(Events.node(node, "steps"), e, fromMe);
  }

  /** One node's interest in one run: every batch, or a bucket at most once an interval. */
  private final class Follower {
    final String node;
    final boolean every;
    final long intervalMs;
    private final BucketPoints bucket = new BucketPoints();
    private long sentSlot = -1;   // the interval the last bucket went for
    private long timer = -1;

    Follower(String node, boolean every, double hz) {
      this.node = node;
      this.every = every;
      this.intervalMs = every ? 0 : Math.max(MIN_INTERVAL_MS, Math.round(1000 / hz));
    }

    void add(StepBatch b) {
      if (bucket.pending() && b.cycle() != bucket.cycle()) flush();   // a bucket is of one cycle
      bucket.add(b);
      if (timer >= 0) return;
      long now = System.currentTimeMillis();
      long slot = (now + LEAD_MS) / intervalMs;
      if (slot > sentSlot) {
        flush();   // the first steps of an interval go at once
      } else {
        timer = vertx.setTimer(Math.max(1, (sentSlot + 1) * intervalMs - LEAD_MS - now), t -> {
          timer = -1;
          flush();
        });
      }
    }

    private void flush() {
      if (!bucket.pending()) return;
      sentSlot = (System.currentTimeMillis() + LEAD_MS) / intervalMs;
      send(node, new Bucket(bucket.take()));
    }

    void cancel() {
      if (timer >= 0) vertx.cancelTimer(timer);
      timer = -1;
    }
  }
}
