package io.losswatch.cluster;

import io.losswatch.event.HistoryRead;
import io.losswatch.event.StepBatch;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;

/**
 * Other nodes' runs' steps read ahead for this node's clients that catch up with them. A client catching up reads a
 * message's worth of steps at a time (1,000 as JSON, 4,096 binary), and across nodes each read was a round trip to
 * the run's owner; such a read asks the owner for up to {@link #STEPS} steps instead, and the reads that follow take theirs
 * from here. Steps only grow within a cycle, so a chunk is good for its cycle as long as it is kept: at most
 * {@link #BYTES} in all (the least recently read go first), none unread for {@link #IDLE_MS}. Thread-safe.
 */
final class ReadAhead {
  /** Steps asked of the owner at once at most: 16 reads of a JSON client, 4 of a binary one. */
  static final int STEPS = 1 << 14;
  /**
   * What a read ahead carries at most, as it travels (fewer steps for a run with many metrics): the owner's event
   * loop encodes and encrypts it in one task, 2–3 ms on this machine once warm (TLS 1.3's AES-GCM at ~450 MB/s).
   */
  static final long READ_BYTES = 1 << 20;
  /** The steps kept at most, as they travel: 16 chunks of a run without metrics. */
  static final long BYTES = 16L << 20;
  /** A chunk no read took from for this long goes: its client caught up, or left. */
  static final long IDLE_MS = 10_000;

  private final ArrayDeque<Chunk> chunks = new ArrayDeque<>();   // least recently read first
  private long bytes;

  private static final class Chunk {
    final StepBatch steps;
    final long bytes;
    long readAt;

    Chunk(StepBatch steps, long now) {
      this.steps = steps;
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

  /** What {@code q} asks of {@code chunk}, a read of at least as many steps from the same step on. */
  static StepBatch first(StepBatch chunk, HistoryRead q) {
    return chunk.slice(0, Math.min(chunk.size(), q.count()));
  }

  /**
   * What {@code q} asks of run {@code q.run()} in its cycle {@code cycle}, from a chunk kept here that holds its step
   * {@code q.from()}: at most {@code q.count()} steps, fewer at the chunk's end (the next read goes on from there); null
   * when no chunk holds it.
   */
  synchronized StepBatch take(HistoryRead q, int cycle, long now) {
    for (Iterator<Chunk> i = chunks.descendingIterator(); i.hasNext(); ) {
      Chunk c = i.next();
      StepBatch b = c.steps;
      if (!b.run().equals(q.run()) || b.cycle() != cycle || q.from() < b.firstStep() || q.from() > b.lastStep()) continue;
      int at = Arrays.binarySearch(b.step(), q.from());
      if (at < 0) at = -at - 1;   // steps need not be consecutive: the first one after
      i.remove();
      c.readAt = now;
      chunks.addLast(c);
      return b.slice(at, (int) Math.min(b.size(), at + (long) q.count()));
    }
    return null;
  }

  /** Keeps {@code chunk}, a read ahead; the least recently read go beyond {@link #BYTES}. */
  synchronized void keep(StepBatch chunk, long now) {
    if (chunk.size() == 0) return;
    Chunk c = new Chunk(chunk, now);
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
