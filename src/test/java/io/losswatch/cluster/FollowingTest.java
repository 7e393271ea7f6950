package io.losswatch.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.losswatch.event.HistoryRead;
import io.losswatch.event.StepBatch;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * What a node makes of another node's run's steps before its clients get them: the chunks of a long read joined, and
 * a lost run's shared-folder steps followed by those that came here after them. Either way every column a step came
 * with goes on (the loss, its metrics, its curvature), as a client of the run's own node gets them.
 */
class FollowingTest {
  private static final double NAN = Double.NaN;
  /** The run's steps whose curvature was measured, and those that logged "val/acc". */
  private static final List<Long> MEASURED = List.of(2L, 5L, 9L, 12L);
  private static final List<Long> LOGGED = List.of(3L, 6L, 8L);

  /**
   * Steps {@code from..to} of run "r": loss 1/step, sharpness 2 and stability 0.1 × step where {@link #MEASURED}
   * (no column when none of them is), "val/acc" step / 100 where {@link #LOGGED} (no column when none is).
   */
  private static StepBatch steps(long from, long to) {
    StepBatch.Builder b = new StepBatch.Builder(1);
    for (long s = from; s <= to; s++) {
      b.add(s, 1.0 / s, 0.1, 1, 1_700_000_000_000L + s);
      if (MEASURED.contains(s)) b.curvature(2, 0.1 * s);
      if (LOGGED.contains(s)) b.metric("val/acc", s / 100.0);
    }
    return b.build("r");
  }

  /** Steps {@code from..to} as a client of the run's own node gets them: each with its columns, NaN where it had none. */
  private static void assertWhole(StepBatch got, long from, long to) {
    assertArrayEquals(LongStream.rangeClosed(from, to).toArray(), got.step(), "every step once, in order");
    assertNotNull(got.sharpness(), "the curvature columns came along");
    assertNotNull(got.metrics().get("val/acc"), "the metric came along");
    for (int i = 0; i < got.size(); i++) {
      long s = got.step()[i];
      assertEquals(1.0 / s, got.loss()[i], "step " + s + "'s loss");
      assertEquals(MEASURED.contains(s) ? 2 : NAN, got.sharpness()[i], "step " + s + "'s sharpness");
      assertEquals(MEASURED.contains(s) ? 0.1 * s : NAN, got.stability()[i], "step " + s + "'s stability");
      assertEquals(LOGGED.contains(s) ? s / 100.0 : NAN, got.metrics().get("val/acc")[i], "step " + s + "'s val/acc");
    }
  }

  @Test
  void aLongReadsChunksJoinedKeepEveryColumn() {
    StepBatch third = steps(9, 12);
    assertWhole(Following.joined(List.of(steps(1, 5), steps(6, 8), third), third), 1, 12);   // 6..8: none measured
  }

  @Test
  void aLostRunsFolderStepsThenItsTailKeepEveryColumn() {
    Following.Tail tail = new Following.Tail();
    tail.add(steps(4, 6));   // overlaps the folder's steps: those are not taken twice
    tail.add(steps(7, 9));
    HistoryRead all = HistoryRead.head("r", 1, Integer.MAX_VALUE);
    assertWhole(Following.withTail(steps(1, 5), all, tail), 1, 9);
    // a folder that held none of the run; one whose steps had no measurement and no metric
    assertWhole(Following.withTail(new StepBatch.Builder(1).build("r"), all, tail), 4, 9);
    Following.Tail later = new Following.Tail();
    later.add(steps(2, 9));
    assertWhole(Following.withTail(steps(1, 1), all, later), 1, 9);
  }
}
