package io.losswatch.web;

import io.losswatch.event.HistoryRead;
import io.losswatch.event.StepBatch;
import io.losswatch.run.Run;
import io.losswatch.run.Steps;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs' history overviews (the steps message of at most {@link #POINTS} points a subscriber gets first),
 * each read and written once and shared by the sessions of one gateway. Keyed by run, cycle and last step:
 * a finished run's overview is computed once however many clients subscribe, a run nobody asks for costs
 * nothing, and the few most recent stay ({@link #CAPACITY}, least recently used out first). Reading and
 * formatting happen on a worker; the map is touched on the gateway's event loop only.
 */
final class HistoryCache {
  static final int CAPACITY = 64;
  static final int POINTS = 2000;
  /** Overviews computed, by every cache: tests read it. */
  static final AtomicLong LOADS = new AtomicLong();

  /**
   * A run's steps 1..{@code lastStep} of {@code cycle}, downsampled, as one message, JSON and binary; null when it
   * has none.
   */
  record Overview(int cycle, long lastStep, String message, Buffer binary) {
  }

  private final Steps steps;
  private final Map<String, Future<Overview>> entries = new LinkedHashMap<>(16, 0.75f, true) {
    @Override protected boolean removeEldestEntry(Map.Entry<String, Future<Overview>> eldest) {
      return size() > CAPACITY;
    }
  };

  HistoryCache(Steps steps) {
    this.steps = steps;
  }

  /**
   * The overview of {@code run}'s steps up to {@code last} in {@code cycle}: cached, being read, or read now (another
   * node's run's from that node).
   */
  Future<Overview> get(Run run, int cycle, long last) {
    if (last == 0) return Future.succeededFuture(new Overview(cycle, 0, null, null));
    String key = run.id() + ':' + cycle + ':' + last;
    Future<Overview> f = entries.get(key);
    if (f != null) return f;
    Future<Overview> loaded = steps.read(run, HistoryRead.range(run.id(), 1, last, POINTS), b -> overview(b, last));
    entries.put(key, loaded);
    loaded.onComplete(ar -> {
      if (ar.failed() || ar.result().cycle() != cycle) entries.remove(key, loaded);   // a demo run started over
    });
    return loaded;
  }

  private static Overview overview(StepBatch b, long last) {
    LOADS.incrementAndGet();
    if (b.size() == 0) return new Overview(b.cycle(), 0, null, null);
    return new Overview(b.cycle(), b.lastStep(), Json.overview(b, b.size() < last), BinaryWire.overview(b, b.size() < last));
  }
}
