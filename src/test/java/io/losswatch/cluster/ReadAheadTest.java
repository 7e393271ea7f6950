package io.losswatch.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.event.HistoryRead;
import io.losswatch.event.StepBatch;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * What a node keeps of another node's run's steps read ahead for its catching-up clients: each read takes the steps it
 * asks for from a chunk holding them, of the run's cycle, and nothing else; the next chunk is asked for while a client
 * is halfway through one; the chunks are bounded and go once unread.
 */
class ReadAheadTest {
  private static final int STEPS = ReadAhead.steps(1);   // chunks of a run with one metric

  /** A run's owner: its steps 1..{@code last} (every {@code every}-th), in cycle {@code cycle}; the reads asked of it. */
  private static final class Owner implements Function<HistoryRead, Future<StepBatch>> {
    final String run;
    final long last;
    final long every;
    int cycle;
    String node = "a";   // the node that owns the run
    final List<Long> asked = new ArrayList<>();
    Promise<StepBatch> held;   // when set, the next read answers only once completed

    Owner(String run, long last, long every) {
      this.run = run;
      this.last = last;
      this.every = every;
    }

    @Override public Future<StepBatch> apply(HistoryRead r) {
      assertEquals(run, r.run());
      asked.add(r.from());
      StepBatch.Builder b = new StepBatch.Builder(1);
      for (long s = (r.from() + every - 1) / every * every; s <= last && b.size() < r.count(); s += every) {
        b.add(s, 1.0 / s, 0.1, 1, s);
        b.metric("acc", s / 10.0);
        b.curvature(s % 2 == 0 ? 2 : Double.NaN, s % 2 == 0 ? 0.5 : Double.NaN);
      }
      StepBatch steps = b.build(run, cycle);
      if (held == null) return Future.succeededFuture(steps);
      return held.future().map(x -> steps);
    }

    StepBatch read(ReadAhead ahead, long from, int count, long now) {
      Future<StepBatch> f = ahead.read(HistoryRead.head(run, from, count), cycle, node, STEPS, this, now);
      assertTrue(f.succeeded(), "answered");
      return f.result();
    }
  }

  private static long[] range(long from, long to) {
    return LongStream.rangeClosed(from, to).toArray();
  }

  @Test
  void aClientsReadsTakeTheirStepsFromAChunkAndTheNextChunkIsAskedForHalfwayThroughIt() {
    ReadAhead ahead = new ReadAhead();
    Owner owner = new Owner("r", 3L * STEPS, 1);
    long next = 1;
    int reads = 0;
    while (next <= owner.last) {   // a JSON client: 1,000 steps a read, from step 1 to the run's last
      StepBatch got = owner.read(ahead, next, 1000, reads);
      assertEquals(next, got.firstStep(), "the next read goes on where the last ended");
      assertEquals(got.firstStep() / 10.0, got.metrics().get("acc")[0], "with its metrics");
      assertEquals(got.firstStep() % 2 == 0 ? 2 : Double.NaN, got.sharpness()[0], "and its curvature");
      next = got.lastStep() + 1;
      reads++;
    }
    assertEquals(3L * STEPS, next - 1, "every step");
    // the first chunk when the client asked for it; the next ones each while it was halfway through the one before;
    // and the steps after the last chunk, which has as many as asked: none
    assertEquals(List.of(1L, STEPS + 1L, 2L * STEPS + 1, 3L * STEPS + 1), owner.asked);
    assertEquals(0, owner.read(ahead, next, 1000, reads).size(), "nothing after the run's last step");
  }

  @Test
  void aReadWhoseChunkIsBeingReadWaitsForItInsteadOfAskingAgain() {
    ReadAhead ahead = new ReadAhead();
    Owner owner = new Owner("r", 10_000, 1);
    owner.held = Promise.promise();
    Future<StepBatch> first = ahead.read(HistoryRead.head("r", 1, 1000), 0, "a", STEPS, owner, 0);
    Future<StepBatch> again = ahead.read(HistoryRead.head("r", 1, 4096), 0, "a", STEPS, owner, 0);   // another client
    assertFalse(first.isComplete());
    owner.held.complete();
    assertArrayEquals(range(1, 1000), first.result().step());
    assertArrayEquals(range(1, 4096), again.result().step());
    assertEquals(List.of(1L), owner.asked, "one read of the owner for both");
    owner.held = null;
    assertArrayEquals(range(9001, 10_000), owner.read(ahead, 9001, 4096, 1).step(), "the rest of a chunk that has"
        + " fewer steps than asked: the owner's last");
    assertEquals(List.of(1L), owner.asked, "a chunk that ended with the run's steps then asks for no next one");
  }

  @Test
  void aChunkOfAnotherCycleServesNoRead() {
    ReadAhead ahead = new ReadAhead();
    Owner owner = new Owner("r", 3000, 1);
    owner.cycle = 2;
    owner.read(ahead, 1, 1000, 0);
    owner.cycle = 3;   // the run started over, or rewound: its steps changed
    owner.read(ahead, 1, 1000, 1);
    assertEquals(List.of(1L, 1L), owner.asked);
  }

  @Test
  void aChunkFromANodeThatNoLongerOwnsTheRunServesNoRead() {
    ReadAhead ahead = new ReadAhead();
    Owner owner = new Owner("r", 3000, 1);
    owner.read(ahead, 1, 1000, 0);
    owner.node = "c";   // node a left and c took the run over, or it went on afresh there: its steps may differ
    owner.read(ahead, 1, 1000, 1);
    assertEquals(List.of(1L, 1L), owner.asked);
  }

  @Test
  void aRunLoggingEveryFewStepsIsReadFromTheNextStepItHas() {
    ReadAhead ahead = new ReadAhead();
    Owner owner = new Owner("r", 1000, 10);
    owner.read(ahead, 1, 2, 0);
    assertArrayEquals(new long[] {30, 40}, owner.read(ahead, 21, 2, 1).step());
    assertEquals(List.of(1L), owner.asked);
  }

  @Test
  void chunksAreBoundedAndGoOnceNoReadTakesFromThem() {
    ReadAhead ahead = new ReadAhead();
    List<Owner> owners = new ArrayList<>();
    long bytes = 0;
    for (int k = 0; bytes <= ReadAhead.BYTES; k++) {   // a chunk a run, until over the bound
      Owner o = new Owner("r" + k, STEPS, 1);
      o.read(ahead, 1, 1000, k);
      owners.add(o);
      bytes += STEPS * (40 + 8 + 16L);
    }
    assertTrue(ahead.bytes() <= ReadAhead.BYTES, ahead.bytes() + " bytes kept");
    owners.get(1).read(ahead, 1001, 1000, 100);
    assertEquals(List.of(1L), owners.get(1).asked, "the second is still held");
    owners.get(0).read(ahead, 1001, 1000, 100);
    assertEquals(List.of(1L, 1001L), owners.get(0).asked, "the least recently read went first");
    ahead.expire(100 + ReadAhead.IDLE_MS - 1);
    owners.get(1).read(ahead, 2001, 1000, 100 + ReadAhead.IDLE_MS);
    assertEquals(List.of(1L), owners.get(1).asked, "a chunk still read is kept");
    ahead.expire(100 + 2 * ReadAhead.IDLE_MS);
    assertEquals(0, ahead.bytes(), "none read for " + ReadAhead.IDLE_MS + " ms: all gone");
  }

  @Test
  void onlyAReadOfTheNextStepsFewerThanAChunkIsReadAhead() {
    int steps = ReadAhead.steps(0);
    assertEquals(ReadAhead.STEPS, steps);
    assertTrue(ReadAhead.steps(64) * (56 + 8 * 64) <= ReadAhead.READ_BYTES, "fewer steps for a run with many metrics");
    assertTrue(ReadAhead.serves(HistoryRead.head("r", 1, 1000), steps));
    assertTrue(ReadAhead.serves(HistoryRead.head("r", 1, 4096), steps));
    assertFalse(ReadAhead.serves(HistoryRead.head("r", 1, steps), steps), "an export's chunk: as asked");
    assertFalse(ReadAhead.serves(HistoryRead.range("r", 1, 500, 0), steps), "a range");
    assertFalse(ReadAhead.serves(HistoryRead.range("r", 1, Long.MAX_VALUE, 1000), steps), "downsampled");
    assertFalse(ReadAhead.serves(HistoryRead.metrics("r", 1, Long.MAX_VALUE, 0), steps), "metric points");
    assertFalse(ReadAhead.serves(HistoryRead.abandoned("r", 1), steps), "a rewound stretch");
  }
}
