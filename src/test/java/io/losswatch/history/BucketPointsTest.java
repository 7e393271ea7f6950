package io.losswatch.history;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.event.StepBatch;
import org.junit.jupiter.api.Test;

/** A live bucket's points: the stretch's lowest and highest loss, its last step and its last measured one. */
class BucketPointsTest {
  private static StepBatch batch(long first, double... losses) {
    StepBatch.Builder b = new StepBatch.Builder(losses.length);
    for (int i = 0; i < losses.length; i++) b.add(first + i, losses[i], 0.1, 1, 1000 + first + i);
    return b.build("r", 0);
  }

  @Test
  void aSpikeAndADipAnywhereInTheStretchAreKeptWithItsLastStep() {
    BucketPoints p = new BucketPoints();
    p.add(batch(1, 5, 4, 9, 3));
    p.add(batch(5, 2, Double.NaN, 1, 1.5));   // NaN ranks above every number: it is the maximum
    StepBatch b = p.take();
    assertArrayEquals(new long[] {6, 7, 8}, b.step());
    assertTrue(Double.isNaN(b.loss()[0]));
    assertEquals(1.0, b.loss()[1]);
    assertFalse(p.pending(), "taken: nothing is held");
  }

  @Test
  void stepsBeforeThoseHeldJoinWithoutMovingTheLastAndAMeasuredPointComesAlong() {
    BucketPoints p = new BucketPoints();
    p.add(batch(11, 3, 2));
    StepBatch.Builder tail = new StepBatch.Builder(3);
    tail.add(5, 7, 0.1, 1, 5);
    tail.add(8, 1, 0.1, 1, 8);
    tail.curvature(40, 2.0);
    tail.add(10, 4, 0.1, 1, 10);
    p.addBefore(tail.build("r", 0));
    StepBatch b = p.take();
    assertArrayEquals(new long[] {5, 8, 12}, b.step(), "max of the tail, its min (measured), the held last");
    assertEquals(2.0, b.stability()[1]);
    assertTrue(Double.isNaN(b.stability()[0]));
  }
}
