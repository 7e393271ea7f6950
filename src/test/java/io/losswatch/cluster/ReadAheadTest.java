package io.losswatch.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.event.HistoryRead;
import io.losswatch.event.StepBatch;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * What a node keeps of another node's run's steps read ahead for its catching-up clients: each read takes the steps it
 * asks for from a chunk holding them, of the run's cycle, and nothing else; the chunks are bounded and go once unread.
 */
class ReadAheadTest {
  /** Steps {@code steps} of run {@code run} in cycle {@code cycle}, loss 1/step, with a metric and the curvature. */
  private static StepBatch chunk(String run, int cycle, long... steps) {
    StepBatch.Builder b = new StepBatch.Builder(1);
    for (long s : steps) {
      b.add(s, 1.0 / s, 0.1, 1, s);
      b.metric("acc", s / 10.0);
      b.curvature(s % 2 == 0 ? 2 : Double.NaN, s % 2 == 0 ? 0.5 : Double.NaN);
    }
    return b.build(run, cycle);
  }

  private static long[] range(long from, long to) {
    return LongStream.rangeClosed(from, to).toArray();
  }

  @Test
  void readsTakeTheirStepsFromTheChunkThatHoldsThemThenGoOnFromItsEnd() {
    ReadAhead ahead = new ReadAhead();
    ahead.keep(chunk("r", 0, range(1, 5000)), 0);
    StepBatch first = ahead.take(HistoryRead.head("r", 1, 1000), 0, 1);
    assertArrayEquals(range(1, 1000), first.step());
    StepBatch next = ahead.take(HistoryRead.head("r", 1001, 1000), 0, 2);
    assertArrayEquals(range(1001, 2000), next.step(), "the next read goes on where the last ended");
    assertEquals(1001 / 10.0, next.metrics().get("acc")[0], "with its metrics");
    assertEquals(2, next.sharpness()[1], "and its curvature");
    assertArrayEquals(range(4001, 5000), ahead.take(HistoryRead.head("r", 4001, 4096), 0, 3).step(),
        "fewer at the chunk's end: the next read asks the owner from there");
    assertNull(ahead.take(HistoryRead.head("r", 5001, 1000), 0, 4), "beyond it: not held");
    assertNull(ahead.take(HistoryRead.head("other", 1, 1000), 0, 4), "another run's: not held");
  }

  @Test
  void aChunkOfAnotherCycleServesNoRead() {
    ReadAhead ahead = new ReadAhead();
    ahead.keep(chunk("r", 2, range(1, 3000)), 0);
    assertNull(ahead.take(HistoryRead.head("r", 1, 1000), 3, 1), "the run started over, or rewound: its steps changed");
    assertArrayEquals(range(1, 1000), ahead.take(HistoryRead.head("r", 1, 1000), 2, 1).step());
  }

  @Test
  void aRunLoggingEveryFewStepsIsReadFromTheNextStepItHas() {
    ReadAhead ahead = new ReadAhead();
    ahead.keep(chunk("r", 0, 10, 20, 30, 40, 50), 0);
    assertArrayEquals(new long[] {30, 40}, ahead.take(HistoryRead.head("r", 21, 2), 0, 1).step());
  }

  @Test
  void chunksAreBoundedAndGoOnceNoReadTakesFromThem() {
    ReadAhead ahead = new ReadAhead();
    int per = ReadAhead.steps(1);
    long bytes = 0;
    for (int k = 0; bytes <= ReadAhead.BYTES; k++) {   // a chunk a run, until over the bound
      ahead.keep(chunk("r" + k, 0, range(1, per)), k);
      bytes += per * (40 + 8 + 16L);
    }
    assertTrue(ahead.bytes() <= ReadAhead.BYTES, ahead.bytes() + " bytes kept");
    assertNull(ahead.take(HistoryRead.head("r0", 1, 1000), 0, 100), "the least recently read went first");
    assertFalse(ahead.take(HistoryRead.head("r1", 1, 1000), 0, 100) == null, "the next is still held");
    ahead.expire(100 + ReadAhead.IDLE_MS - 1);
    assertFalse(ahead.take(HistoryRead.head("r1", 1001, 1000), 0, 100 + ReadAhead.IDLE_MS) == null,
        "a chunk still read is kept");
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
