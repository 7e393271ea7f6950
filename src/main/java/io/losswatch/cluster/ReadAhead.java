package io.losswatch.cluster;

import io.losswatch.event.HistoryRead;
import io.losswatch.event.StepBatch;
import io.vertx.core.Future;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Function;

/**
 * Other nodes' runs' steps read ahead for this node's clients that catch up with them. A client catching up reads a
 * message's worth of steps at a time (1,000 as JSON, 4,096 binary), and across nodes each read was a round trip to
 * the run's owner; such a read asks the owner for up to {@link #STEPS} steps instead, the reads that follow take theirs
 * from here, and once a client is halfway through a chunk the next one is asked for, so it is here when the client
 * gets there. Steps only grow within a cycle, so a chunk is good for its cycle, while the node it came from owns the
 * run, as long as it is kept: at most {@link #BYTES} in all (the least recently read go first), none unread for
 * {@link #IDLE_MS}. Thread-safe.
 */
final class ReadAhead {
  /** Steps asked of the owner at once at most: 16 reads of a JSON client, 4 of a binary one. */
  static final int STEPS = 1 << 14;
  /**
   * What a read ahead carries at most, as it travels (fewer steps for a run with many metrics): the owner's event
   * loop encodes and encrypts it in one task, 2–3 ms on this machine once warm (TLS 1.3's AES-GCM at ~450 MB/s).
   */
  static final long READ_BYTES = 1 << 20;
  /** The steps kept at most, as they travel: 16 chunks or more (each is about 1 MB at most). */
  static final long BYTES = 16L << 20;
  /** A chunk no read took from for this long goes: its client caught up, or left. */
  static final long IDLE_MS = 10_000;

  private final ArrayDeque<Chunk> chunks = new ArrayDeque<>();   // least recently read first
  /** The chunks being read, by run, node and first step asked ("run node step"). */
  private final Map<String, Future<StepBatch>> reading = new HashMap<>();
  private long bytes;

  private static final class Chunk {
    final String node;    // the node it came from
    final StepBatch steps;
    final boolean full;   // as many steps as asked: the owner may have more after them
    boolean followed;     // the chunk after it was asked for
    final long bytes;
    long readAt;

    Chunk(String node, StepBatch steps, boolean full, long now) {
      this.node = node;
      this.steps = steps;
      this.full = full;
      this.bytes = (long) steps.size() * (40 + 8L * steps.metrics().size() + (steps.hasCurvature() ? 16 : 0));
      this.readAt = now;
    }
  }

  /** Steps a read ahead asks for, of a run with {@code metrics} metrics: about {@link #READ_BYTES}, {@link #STEPS} at most. */
  static int steps(int metrics) {
    return (int) Math.min(STEPS, READ_BYTES / (56 + 8L * metrics));
  }

  /**
   * Whether {@code q} is a read worth reading ahead for, {@code steps} at once: the next steps from a step on, every
   * one, fewer than that.
   */
  static boolean serves(HistoryRead q, int steps) {
    return q.maxPoints() == 0 && q.stretch() == 0 && !q.metrics() && q.to() == Long.MAX_VALUE && q.count() < steps;
  }

  /**
   * What {@code q} asks of run {@code q.run()}, in its cycle {@code cycle}, of node {@code node}: from a chunk kept
   * here that holds its step {@code q.from()} (fewer steps than asked at the chunk's end: the next read goes on from
   * there), else from the chunk of {@code steps} steps from there that {@code owner} reads (or is reading already).
   */
  Future<StepBatch> read(HistoryRead q, int cycle, String node, int steps, Function<HistoryRead, Future<StepBatch>> owner,
      long now) {
    Future<StepBatch> pending;
    synchronized (this) {
      Chunk c = holding(q.run(), cycle, node, q.from());
      if (c != null) {
        StepBatch b = c.steps;
        int at = Arrays.binarySearch(b.step(), q.from());
        if (at < 0) at = -at - 1;   // steps need not be consecutive: the first one after
        int end = (int) Math.min(b.size(), at + (long) q.count());
        c.readAt = now;
        chunks.remove(c);
        chunks.addLast(c);
        // halfway through a full chunk: the next one is asked for now, to be here when this client gets there
        if (c.full && !c.followed && end >= b.size() / 2) {
          c.followed = true;
          if (holding(q.run(), cycle, node, b.lastStep() + 1) == null) {
            fetch(HistoryRead.head(q.run(), b.lastStep() + 1, steps), node, steps, owner, now);
          }
        }
        return Future.succeededFuture(b.slice(at, end));
      }
      pending = fetch(HistoryRead.head(q.run(), q.from(), steps), node, steps, owner, now);
    }
    return pending.map(b -> b.slice(0, Math.min(b.size(), q.count())));
  }

  /** Asks {@code owner} (node {@code node}) for chunk {@code r}, unless it is being read already; keeps it once it comes. */
  private Future<StepBatch> fetch(HistoryRead r, String node, int steps, Function<HistoryRead, Future<StepBatch>> owner,
      long now) {
    String key = r.run() + ' ' + node + ' ' + r.from();
    Future<StepBatch> had = reading.get(key);
    if (had != null) return had;
    Future<StepBatch> f = owner.apply(r);
    reading.put(key, f);
    f.onComplete(ar -> {
      synchronized (this) {
        reading.remove(key);
        if (ar.succeeded()) keep(node, ar.result(), ar.result().size() >= steps, now);
      }
    });
    return f;
  }

  /** The chunk of run {@code run} in cycle {@code cycle}, from node {@code node}, that holds its step {@code step}. */
  private Chunk holding(String run, int cycle, String node, long step) {
    for (Iterator<Chunk> i = chunks.descendingIterator(); i.hasNext(); ) {
      Chunk c = i.next();
      StepBatch b = c.steps;
      if (b.run().equals(run) && b.cycle() == cycle && c.node.equals(node) && step >= b.firstStep()
          && step <= b.lastStep()) {
        return c;
      }
    }
    return null;
  }

  /** Keeps {@code chunk}, from node {@code node}; the least recently read go beyond {@link #BYTES}. */
  private void keep(String node, StepBatch chunk, boolean full, long now) {
    if (chunk.size() == 0) return;
    Chunk c = new Chunk(node, chunk, full, now);
    chunks.addLast(c);
    bytes += c.bytes;
    while (bytes > BYTES && chunks.size() > 1) bytes -= chunks.removeFirst().bytes;
  }

  /** Forgets the chunks no read took from for {@link #IDLE_MS}. */
  synchronized void expire(long now) {
    while (!chunks.isEmpty() && now - chunks.peekFirst().readAt >= IDLE_MS) bytes -= chunks.removeFirst().bytes;
  }

  /** The bytes kept (tests). */
  synchronized long bytes() {
    return bytes;
  }
}
