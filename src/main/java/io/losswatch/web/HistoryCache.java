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
 * each read and written once and shared by the sessions of one gateway. A finished run's overview is computed once
 * however many clients subscribe; a running run's serves those who subscribe within {@link #SHARED_NANOS} of it
 * (a reconnect storm: every page at once), each with the few steps since as its {@link Overview#tail} (read from
 * the run's newest steps, cheap), so a thousand subscribers cost one overview a second, not a thousand. A run nobody
 * asks for costs nothing, and the few most recent stay ({@link #CAPACITY} runs, least recently used out first).
 * Reading and formatting happen on a worker; the map is touched on the gateway's event loop only.
 */
final class HistoryCache {
  static final int CAPACITY = 64;
  static final int POINTS = 2000;
  /** How long a running run's overview is shared with later subscribers. */
  static final long SHARED_NANOS = 1_000_000_000L;
  /** A tail's points: M4 keeps its first, last, minimum and maximum loss, and a measured point, in two buckets. */
  private static final int TAIL_POINTS = 10;
  /** Overviews computed, by every cache: tests read it. */
  static final AtomicLong LOADS = new AtomicLong();

  /**
   * A run's steps 1..{@code lastStep} of {@code cycle}, downsampled, as one message, JSON and binary; null when it
   * has none. {@code tail}: the steps after those up to where the subscriber came in (null: none), for its first
   * bucket.
   */
  record Overview(int cycle, long lastStep, String message, Buffer binary, StepBatch tail) {
    /** This overview, with the steps after it as its tail (a tail of another cycle: read it again, cycle -1). */
    Overview withTail(StepBatch t) {
      return new Overview(t.cycle() == cycle ? cycle : -1, lastStep, message, binary, t.size() == 0 ? null : t);
    }
  }

  /** A run's overview, read up to {@code last} of {@code cycle} at {@code at} (System.nanoTime). */
  private record Entry(int cycle, long last, long at, Future<Overview> overview) {
  }

  private final Steps steps;
  private final Map<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true) {
    @Override protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
      return size() > CAPACITY;
    }
  };

  HistoryCache(Steps steps) {
    this.steps = steps;
  }

  /**
   * The overview of {@code run}'s steps up to {@code last} in {@code cycle}: cached, being read, or read now (another
   * node's run's from that node); or a fresh one of fewer steps with the rest as its tail.
   */
  Future<Overview> get(Run run, int cycle, long last) {
    if (last == 0) return Future.succeededFuture(new Overview(cycle, 0, null, null, null));
    Entry e = entries.get(run.id());
    long now = System.nanoTime();
    if (e != null && e.cycle == cycle && e.last == last) return e.overview;
    if (e != null && e.cycle == cycle && e.last < last && now - e.at < SHARED_NANOS) {
      return e.overview.compose(o -> o.lastStep() == 0 ? load(run, last)
          : steps.read(run, HistoryRead.range(run.id(), o.lastStep() + 1, last, TAIL_POINTS), o::withTail));
    }
    Future<Overview> loaded = load(run, last);
    Entry added = new Entry(cycle, last, now, loaded);
    entries.put(run.id(), added);
    loaded.onComplete(ar -> {
      if (ar.failed() || ar.result().cycle() != cycle) entries.remove(run.id(), added);   // a demo run started over
    });
    return loaded;
  }

  private Future<Overview> load(Run run, long last) {
    return steps.read(run, HistoryRead.range(run.id(), 1, last, POINTS), b -> overview(b, last));
  }

  private static Overview overview(StepBatch b, long last) {
    LOADS.incrementAndGet();
    if (b.size() == 0) return new Overview(b.cycle(), 0, null, null, null);
    return new Overview(b.cycle(), b.lastStep(), Json.overview(b, b.size() < last), BinaryWire.overview(b, b.size() < last),
        null);
  }
}
